// The narrow view of the federation client that room federation needs:
// one signed request to one server, answering parsed JSON or throwing.
import type { JsonValue } from '../core/types.js';

export interface FederationRequestOptions {
  query?: Record<string, string | string[]>;
  body?: JsonValue;
  timeoutMs?: number;
  /** Abandons the request (shutdown). */
  signal?: AbortSignal;
}

export interface FederationRequester {
  request<T = JsonValue>(destination: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, opts?: FederationRequestOptions): Promise<T>;
}

/** Path segments are percent-encoded (room and event IDs hold `!`, `$`, `:` and `/`). */
export function federationPath(prefix: string, ...segments: string[]): string {
  return `${prefix}/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}
