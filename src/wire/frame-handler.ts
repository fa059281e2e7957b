/**
 * One request frame in, one response frame out (or none), with no socket:
 * the listener (./listener.ts) feeds it, and so does the protocol fuzz.
 *
 * A request frame (after its int32 size) is a request header, then the body:
 *
 *   header v1   api_key int16, api_version int16, correlation_id int32,
 *               client_id nullable string (int16 length)
 *   header v2   the same, then tagged fields (the flexible versions)
 *
 * (Header v0, without client_id, is only ControlledShutdown v0's, which is not
 * served.) A response frame is its int32 size, then correlation_id (header
 * v0), plus tagged fields in flexible versions (header v1) except for
 * ApiVersions, whose response header is always v0 so that any client can
 * read it.
 *
 * A frame that breaks the protocol (truncated, wrong lengths, trailing bytes,
 * an unknown API key, an unserved version) is a WireFormatError: the
 * listener closes that connection, as Kafka's broker does. An ApiVersions
 * request of a newer version than served is answered (KIP-511) in version 0
 * with UNSUPPORTED_VERSION and the served ranges.
 */
import { WafkaError } from '../errors.ts';
import type { WireApi, WireContext } from './api.ts';
import { apiVersionsAnswer } from './apis/api-versions.ts';
import { WIRE_APIS, WIRE_APIS_BY_KEY } from './apis/index.ts';
import { Reader, WireFormatError, Writer } from './codec.ts';
import { decode, encode, type Struct } from './schema.ts';

const API_VERSIONS_KEY = 18;
const UNSUPPORTED_VERSION = 35;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** The header's fixed part: api_key, api_version, correlation_id. */
export const REQUEST_HEADER_BYTES_MIN = 8;

/** Reads the header; the reader is left at the body. */
export function readRequestHeader(reader: Reader): { header: RequestHeader; api: WireApi | undefined } {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.string(false);
  const api = WIRE_APIS_BY_KEY.get(apiKey);
  if (api && apiVersion >= api.request.flexibleFrom && apiVersion <= api.maxVersion) {
    // Header v2's tagged fields: none are defined for requests; skip whatever is there.
    const count = reader.taggedFieldCount();
    for (let i = 0; i < count; i++) {
      reader.uvarint();
      reader.raw(reader.uvarint(), 'request header tagged field');
    }
  }
  return { header: { apiKey, apiVersion, correlationId, clientId }, api };
}

export interface HandledFrame {
  header: RequestHeader;
  api: WireApi;
  /** The response frame (size prefix included) as chunks, or null when the request takes no response. */
  response: Promise<Uint8Array[] | null>;
}

/**
 * Parses a request frame (the bytes after its size) and starts serving it.
 * Throws WireFormatError at once for a frame that breaks the protocol; the
 * returned promise rejects only when the broker failed the request as a
 * whole (a WafkaError: the listener closes the connection then too).
 */
export function handleFrame(frame: Uint8Array, context: WireContext): HandledFrame {
  const reader = new Reader(frame);
  const { header, api } = readRequestHeader(reader);
  if (!api) throw new WireFormatError(`unknown API key ${header.apiKey}`);
  if (header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) {
    if (api.key === API_VERSIONS_KEY && header.apiVersion > api.maxVersion) {
      return { header, api, response: Promise.resolve(responseFrame(header.correlationId, api, 0, apiVersionsAnswer(WIRE_APIS, UNSUPPORTED_VERSION))) };
    }
    throw new WireFormatError(`${api.name} v${header.apiVersion} is not served (v${api.minVersion}–v${api.maxVersion})`);
  }
  const request = decode(api.request, reader, header.apiVersion);
  // The listener's context with this request's client id; the prototype keeps `broker` looked up at call time.
  const requestContext: WireContext = Object.create(context, { clientId: { value: header.clientId } });
  const response = api.handle(request, header.apiVersion, requestContext).then(
    (body) => (body === null ? null : responseFrame(header.correlationId, api, header.apiVersion, body)),
  );
  return { header, api, response };
}

function responseFrame(correlationId: number, api: WireApi, version: number, body: Struct): Uint8Array[] {
  const w = new Writer(api.key === 1 ? 1024 : 256);
  w.int32(0); // the size, set below
  w.int32(correlationId);
  if (version >= api.response.flexibleFrom && api.key !== API_VERSIONS_KEY) w.uvarint(0);
  encode(api.response, w, body, version);
  const size = w.byteLength - 4;
  const chunks = w.finish();
  new DataView(chunks[0].buffer, chunks[0].byteOffset, 4).setInt32(0, size);
  return chunks;
}

/** Why a request failed as a whole, for the log line of the connection it closes. */
export function failureReason(error: unknown): string {
  if (error instanceof WireFormatError) return `malformed request: ${error.message}`;
  if (error instanceof WafkaError) return `request failed: ${error.message}`;
  return `request failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}
