export * from '../../src/storage/index.ts';
export { WafkaError } from '../../src/errors.ts';
