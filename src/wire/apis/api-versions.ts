/**
 * ApiVersions (key 18): which APIs and versions this listener serves. A
 * client asks first, then uses, per API, the highest version both sides
 * know. A request of a version newer than served is answered (KIP-511) in
 * version 0's format with UNSUPPORTED_VERSION and the supported ranges, so
 * that the client can retry with a version it finds there; the listener does
 * that (./frame-handler.ts) before this file is reached.
 */
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 3;

export const apiVersions = (served: () => readonly WireApi[]): WireApi => ({
  key: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 3,
  request: schema(`
clientSoftwareName string 3+
clientSoftwareVersion string 3+
`, FLEXIBLE_FROM),
  response: API_VERSIONS_RESPONSE,
  async handle() {
    return apiVersionsAnswer(served(), 0);
  },
});

export const API_VERSIONS_RESPONSE = schema(`
errorCode int16 0+
apiKeys [] 0+
  apiKey int16 0+
  minVersion int16 0+
  maxVersion int16 0+
throttleTimeMs int32 1+
`, FLEXIBLE_FROM);

export function apiVersionsAnswer(served: readonly WireApi[], errorCode: number) {
  return {
    errorCode,
    apiKeys: [...served].sort((a, b) => a.key - b.key).map((a) => ({ apiKey: a.key, minVersion: a.minVersion, maxVersion: a.maxVersion })),
    throttleTimeMs: 0,
  };
}
