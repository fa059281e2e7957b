/** AlterConfigs (key 33): replaces a topic's config overrides (Kafka's names or wafka's). Broker settings are fixed. */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { RESOURCE_TYPES } from './describe-configs.ts';

const FLEXIBLE_FROM = 2;

export const alterConfigs: WireApi = {
  key: 33, name: 'AlterConfigs', minVersion: 0, maxVersion: 2,
  request: schema(`
resources [] 0+
  resourceType int8 0+
  resourceName string 0+
  configs [] 0+
    name string 0+
    value string 0+ null:0+
validateOnly bool 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
responses [] 0+
  errorCode int16 0+
  errorMessage string 0+ null:0+
  resourceType int8 0+
  resourceName string 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    type Resource = { resourceType: number; resourceName: string; configs: { name: string; value: string | null }[] };
    const resources: Resource[] = request.resources;
    const answer = await context.broker.alterConfigs({
      validateOnly: request.validateOnly,
      resources: resources.map((r) => ({
        // An unknown type reaches the broker as one it refuses, so the answer keeps the request's order.
        type: RESOURCE_TYPES[r.resourceType] ?? ('unknown' as 'topic'),
        name: r.resourceName,
        configEntries: r.configs.filter((c) => c.value !== null).map((c) => ({ name: c.name, value: c.value! })),
      })),
    });
    return {
      throttleTimeMs: 0,
      responses: answer.resources.map((result, i) => ({ ...errorFields(result.error), resourceType: resources[i].resourceType, resourceName: result.name })),
    };
  },
};
