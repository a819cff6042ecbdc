// Reading what a client sent: the body (with a size cap), JSON parsing, the
// access token, and the client's address.
import type { IncomingMessage } from 'node:http';
import type { JsonValue } from '../core/types.js';
import { MatrixError } from '../core/errors.js';

/**
 * The cap on JSON bodies: Synapse's, 200 × the 64 KiB PDU limit (12.5 MiB),
 * because a full federation /send transaction (50 PDUs and 100 EDUs) and big
 * /keys/upload or /sendToDevice payloads are legitimately that large. Raw
 * (media) bodies are capped by max_upload_size instead.
 */
export const MAX_JSON_BODY_BYTES = 200 * 65536;

export function tooLarge(limit: number): MatrixError {
  return new MatrixError(413, 'M_TOO_LARGE', `Request body is larger than the limit of ${limit} bytes`);
}

/** Thrown when the client went away mid-body; there is nobody to answer. */
export class ClientAbortedError extends Error {}

/** Reads the whole body, rejecting with 413 M_TOO_LARGE as soon as it exceeds `limit`. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Keep draining (discarding) so the client finishes writing and reads
        // the 413; the edge closes the connection once that is sent.
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new ClientAbortedError(`request body aborted: ${err.message}`));
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new ClientAbortedError('client closed the connection before sending the whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JSON body whatever its Content-Type says (clients are sloppy about
 * it, and Synapse does not check). An empty body is `undefined`, which
 * `requireObject` in validate.ts reads as `{}`: endpoints such as POST /logout
 * are sent without one.
 */
export function parseJsonBody(bytes: Buffer): JsonValue | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON: the body is not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new MatrixError(400, 'M_NOT_JSON', `Content not JSON: ${(err as Error).message}`);
  }
}

function missingToken(message: string): MatrixError {
  return new MatrixError(401, 'M_MISSING_TOKEN', message);
}

/**
 * The access token from `Authorization: Bearer …` or, for older clients, the
 * `access_token` query parameter (client-server-api/_index.md, "Using access
 * tokens"). Sending both is refused, as Synapse does, so a request is never
 * ambiguous about whose it is.
 */
export function extractAccessToken(req: { headers: IncomingMessage['headers']; query: URLSearchParams }): string | undefined {
  const header = req.headers.authorization;
  const fromQuery = req.query.get('access_token');
  if (header !== undefined) {
    if (fromQuery !== null) throw missingToken('Mixing the Authorization header and the access_token query parameter is not allowed');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw missingToken("Invalid Authorization header: expected 'Bearer <access token>'");
    return match[1];
  }
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery;
}

/** The client's IP; behind a trusted reverse proxy, the first X-Forwarded-For entry. */
export function clientAddress(req: IncomingMessage, trustForwarded: boolean): string {
  if (trustForwarded) {
    const header = req.headers['x-forwarded-for'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** The request URL as safe to log: access tokens replaced. */
export function redactedUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1<redacted>');
}
