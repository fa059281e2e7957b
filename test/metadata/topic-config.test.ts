import { expect, test } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, describeTopicConfig, parseTopicConfigEntries } from '../../src/metadata/topic-config.ts';
import { WafkaError } from '../../src/errors.ts';

test("unclean.leader.election.enable is a boolean as Kafka's: 'true' or 'false' in any case, off by default", () => {
  expect(DEFAULT_TOPIC_CONFIG.uncleanLeaderElectionEnable).toBe(false);
  expect(parseTopicConfigEntries([{ name: 'unclean.leader.election.enable', value: 'TRUE' }])).toEqual({ uncleanLeaderElectionEnable: true });
  expect(parseTopicConfigEntries([{ name: 'uncleanLeaderElectionEnable', value: 'false' }])).toEqual({ uncleanLeaderElectionEnable: false });
  for (const value of ['1', 'yes', '', 'truee']) {
    expect(() => parseTopicConfigEntries([{ name: 'unclean.leader.election.enable', value }]), value).toThrow(WafkaError);
  }
  expect(describeTopicConfig(DEFAULT_TOPIC_CONFIG, { uncleanLeaderElectionEnable: true }, ['unclean.leader.election.enable']))
    .toEqual([{ name: 'unclean.leader.election.enable', value: 'true', isDefault: false, readOnly: false, isSensitive: false }]);
});
