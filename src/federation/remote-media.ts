// Fetching another server's media (server-server-api "Content Repository";
// content_repository.yaml). The authenticated federation endpoint comes
// first; a server that answers it "unrecognised" predates Matrix 1.11 and
// is asked on the deprecated /_matrix/media/v3/download with
// allow_remote=false, as the spec requires, so it never asks a third server
// on our behalf. The media repository keeps what we fetch.
import { MatrixError } from '../core/errors.js';
import { multipartBoundary, parseMultipart, type MultipartPart } from '../core/multipart.js';
import type { FetchedMedia, RemoteMediaSource } from '../services/media/index.js';
import type { FederationClient, RawFederationResponse } from './client.js';
import { FederationError, ResponseTooLargeError } from './errors.js';
import { isUnknownEndpoint, remoteFailure } from './remote-failure.js';

/** Room for the multipart framing and metadata around the media itself. */
const FRAMING_ALLOWANCE = 64 * 1024;
/** The remote waits up to timeout_ms for an upload; we wait that long and this much more for the bytes. */
const TRANSFER_MARGIN_MS = 30_000;

export class FederationMediaSource implements RemoteMediaSource {
  constructor(private readonly client: Pick<FederationClient, 'requestRaw' | 'fetchUrl'>) {}

  async fetch(origin: string, mediaId: string, opts: { timeoutMs: number; maxBytes: number }): Promise<FetchedMedia> {
    const uri = `mxc://${origin}/${mediaId}`;
    try {
      try {
        return await this.fetchAuthenticated(origin, mediaId, opts);
      } catch (err) {
        if (!isUnknownEndpoint(err)) throw err;
      }
      return await this.fetchLegacy(origin, mediaId, opts);
    } catch (err) {
      if (err instanceof ResponseTooLargeError) {
        throw new MatrixError(502, 'M_TOO_LARGE', `Could not fetch ${uri}: it is larger than this server's max_upload_size (${opts.maxBytes} bytes)`);
      }
      throw remoteFailure(err, `fetch ${uri} from ${origin}`);
    }
  }

  /** GET /_matrix/federation/v1/media/download/{mediaId}: multipart/mixed, metadata then the bytes or a Location. */
  private async fetchAuthenticated(origin: string, mediaId: string, opts: { timeoutMs: number; maxBytes: number }): Promise<FetchedMedia> {
    const path = `/_matrix/federation/v1/media/download/${encodeURIComponent(mediaId)}`;
    const response = await this.client.requestRaw(origin, 'GET', path, {
      query: { timeout_ms: opts.timeoutMs },
      timeoutMs: opts.timeoutMs + TRANSFER_MARGIN_MS,
      maxBytes: opts.maxBytes + FRAMING_ALLOWANCE,
    });
    const content = mediaPart(origin, response);
    const location = content.headers['location'];
    if (location !== undefined) return this.followLocation(origin, location, opts);
    if (content.body.length > opts.maxBytes) throw new ResponseTooLargeError(origin, opts.maxBytes);
    return { bytes: content.body, contentType: content.headers['content-type'], uploadName: fileNameOf(content.headers['content-disposition']) };
  }

  /** The second part may send us elsewhere; that URL is fetched as it is, unsigned (content_repository.yaml). */
  private async followLocation(origin: string, location: string, opts: { timeoutMs: number; maxBytes: number }, base?: string): Promise<FetchedMedia> {
    let url: URL;
    try {
      url = new URL(location, base);
    } catch {
      throw new FederationError('response', origin, `${origin} pointed to ${JSON.stringify(location)} for the media, which is not a URL`);
    }
    const response = await this.client.fetchUrl(url, { timeoutMs: opts.timeoutMs + TRANSFER_MARGIN_MS, maxBytes: opts.maxBytes });
    return rawMedia(response);
  }

  /** The deprecated GET /_matrix/media/v3/download/{serverName}/{mediaId}, never letting the remote fetch elsewhere. */
  private async fetchLegacy(origin: string, mediaId: string, opts: { timeoutMs: number; maxBytes: number }): Promise<FetchedMedia> {
    const path = `/_matrix/media/v3/download/${encodeURIComponent(origin)}/${encodeURIComponent(mediaId)}`;
    const response = await this.client.requestRaw(origin, 'GET', path, {
      // allow_redirect: Matrix 1.7 lets the answer be a redirect; older servers ignore it.
      query: { allow_remote: 'false', timeout_ms: opts.timeoutMs, allow_redirect: 'true' },
      timeoutMs: opts.timeoutMs + TRANSFER_MARGIN_MS,
      maxBytes: opts.maxBytes,
    });
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.location;
      if (location === undefined) throw new FederationError('response', origin, `${origin} answered the media download with HTTP ${response.status} but no Location`);
      return this.followLocation(origin, location, opts, `https://${origin}${path}`);
    }
    return rawMedia(response);
  }
}

/** The media part of a multipart/mixed answer, or an error saying what is wrong with the answer. */
function mediaPart(origin: string, response: RawFederationResponse): MultipartPart {
  const contentType = response.headers['content-type'] ?? '';
  const boundary = /^multipart\/mixed\b/i.test(contentType) ? multipartBoundary(contentType) : undefined;
  if (boundary === undefined) {
    throw new FederationError('response', origin, `${origin} answered the media download with Content-Type ${JSON.stringify(contentType)}, not multipart/mixed with a boundary`);
  }
  let parts: MultipartPart[];
  try {
    parts = parseMultipart(response.body, boundary);
  } catch (err) {
    throw new FederationError('response', origin, `${origin} sent a multipart answer that cannot be read: ${(err as Error).message}`);
  }
  if (parts.length < 2) throw new FederationError('response', origin, `${origin} sent a multipart answer with ${parts.length} part(s); the media is the second of two`);
  return parts[1]!;
}

function rawMedia(response: RawFederationResponse): FetchedMedia {
  return { bytes: response.body, contentType: response.headers['content-type'], uploadName: fileNameOf(header(response, 'content-disposition')) };
}

function header(response: RawFederationResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The file name in a Content-Disposition, as Synapse reads it: the RFC 5987
 * `filename*=utf-8''…` when it decodes, else a plain ASCII `filename`.
 */
function fileNameOf(disposition: string | undefined): string | undefined {
  if (disposition === undefined) return undefined;
  const params = new Map<string, string>();
  for (const match of disposition.matchAll(/;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
    const raw = match[2]!.trim();
    params.set(match[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  const extended = /^utf-8''(.*)$/i.exec(params.get('filename*') ?? '');
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!);
    } catch {
      // Not valid percent-encoded UTF-8: fall back to the plain name.
    }
  }
  const plain = params.get('filename');
  return plain !== undefined && /^[\x20-\x7e]*$/.test(plain) ? plain : undefined;
}
