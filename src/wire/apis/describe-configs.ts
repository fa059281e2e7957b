/**
 * DescribeConfigs (key 32): topic configs (resource type 2) by Kafka's names
 * (retention.ms, cleanup.policy, ...), and a broker's own settings (type 4).
 * configSource (version 1+): 1 for a topic's override, 5 for a default, 4
 * for a broker's settings (fixed when it starts).
 */
import type { ConfigResourceType, DescribeConfigsResponse } from '../../protocol/types.ts';
import { TOPIC_CONFIG_NAMES, TOPIC_CONFIG_SPECS } from '../../metadata/topic-config.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 4;

/** Kafka's ConfigResource.Type codes. */
export const RESOURCE_TYPES: Readonly<Record<number, ConfigResourceType>> = { 2: 'topic', 4: 'broker' };
const CONFIG_SOURCE = { topicOverride: 1, broker: 4, default: 5 } as const;
const KAFKA_TOPIC_CONFIG_NAMES = TOPIC_CONFIG_NAMES.map((n) => TOPIC_CONFIG_SPECS[n].kafkaName);

export const describeConfigs: WireApi = {
  key: 32, name: 'DescribeConfigs', minVersion: 0, maxVersion: 4,
  request: schema(`
resources [] 0+
  resourceType int8 0+
  resourceName string 0+
  configurationKeys []string 0+ null:0+
includeSynonyms bool 1+ default:false
includeDocumentation bool 3+ default:false
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
results [] 0+
  errorCode int16 0+
  errorMessage string 0+ null:0+
  resourceType int8 0+
  resourceName string 0+
  configs [] 0+
    name string 0+
    value string 0+ null:0+
    readOnly bool 0+
    isDefault bool 0
    configSource int8 1+ default:-1
    isSensitive bool 0+
    synonyms [] 1+
      name string 1+
      value string 1+ null:0+
      source int8 1+
    configType int8 3+ default:0
    documentation string 3+ null:0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    type Resource = { resourceType: number; resourceName: string; configurationKeys: string[] | null };
    const resources: Resource[] = request.resources;
    const known = resources.filter((r) => RESOURCE_TYPES[r.resourceType]);
    const answer: DescribeConfigsResponse = known.length === 0 ? { resources: [] } : await context.broker.describeConfigs({
      resources: known.map((r) => ({
        type: RESOURCE_TYPES[r.resourceType],
        name: r.resourceName,
        configNames: r.configurationKeys ?? (RESOURCE_TYPES[r.resourceType] === 'topic' ? KAFKA_TOPIC_CONFIG_NAMES : null),
      })),
    });
    let next = 0;
    return {
      throttleTimeMs: 0,
      results: resources.map((r) => {
        if (!RESOURCE_TYPES[r.resourceType]) {
          return { errorCode: 42, errorMessage: `INVALID_REQUEST: resource type ${r.resourceType}: wafka describes topics (2) and brokers (4)`, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
        }
        const result = answer.resources[next++];
        const broker = result.type === 'broker';
        return {
          ...errorFields(result.error), resourceType: r.resourceType, resourceName: r.resourceName,
          configs: result.configEntries.map((e) => ({
            name: e.name, value: e.value, readOnly: e.readOnly, isDefault: e.isDefault, isSensitive: e.isSensitive,
            configSource: broker ? CONFIG_SOURCE.broker : e.isDefault ? CONFIG_SOURCE.default : CONFIG_SOURCE.topicOverride,
            synonyms: [], documentation: null,
          })),
        };
      }),
    };
  },
};
