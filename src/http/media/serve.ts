// Response headers for media (client-server-api/modules/content_repo.md):
// a browser must never run uploaded content as part of a web page, so
// content is sent `inline` only for the spec's list of harmless types
// ("Serving inline content"), always with a sandboxing CSP and nosniff.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { multipartFraming } from '../../core/multipart.js';
import type { MediaContent } from '../../services/media/index.js';
import { baseContentType } from '../../services/media/thumbnails.js';
import { StreamBody, type MatrixResponse } from '../types.js';

/** The spec's types safe for `Content-Disposition: inline` (Synapse's INLINE_CONTENT_TYPES). */
export const INLINE_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'text/css', 'text/plain', 'text/csv', 'application/json', 'application/ld+json',
  'image/jpeg', 'image/gif', 'image/png', 'image/apng', 'image/webp', 'image/avif',
  'video/mp4', 'video/webm', 'video/ogg', 'video/quicktime',
  'audio/mp4', 'audio/webm', 'audio/aac', 'audio/mpeg', 'audio/ogg', 'audio/wave', 'audio/wav', 'audio/x-wav', 'audio/x-pn-wav', 'audio/flac', 'audio/x-flac',
]);

/** The spec's recommended policy, plus media-src so audio and video still play. */
export const MEDIA_CSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/** Characters RFC 5987 lets through unescaped in an ext-value (attr-char). */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

function rfc5987(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `inline` or `attachment`, with the file name per RFC 6266: a quoted
 * filename for plain printable ASCII, `filename*=utf-8''…` otherwise.
 */
export function contentDisposition(contentType: string, fileName: string | null): string {
  const disposition = INLINE_CONTENT_TYPES.has(baseContentType(contentType)) ? 'inline' : 'attachment';
  if (fileName === null || fileName === '') return disposition;
  if (/^[\x20-\x7e]*$/.test(fileName) && !/["\\]/.test(fileName)) return `${disposition}; filename="${fileName}"`;
  return `${disposition}; filename*=utf-8''${rfc5987(fileName)}`;
}

/** Text without a declared charset is UTF-8 in Matrix; say so, as Synapse does. */
function servedContentType(contentType: string): string {
  return contentType.toLowerCase().startsWith('text/') && !/charset=/i.test(contentType) ? `${contentType}; charset=utf-8` : contentType;
}

export function mediaResponse(content: MediaContent, opts: { fileName?: string | null; authenticated: boolean }): MatrixResponse {
  const fileName = opts.fileName === undefined ? content.uploadName : opts.fileName;
  return {
    body: new StreamBody(content.size, content.open),
    headers: {
      'Content-Type': servedContentType(content.contentType),
      'Content-Disposition': contentDisposition(content.contentType, fileName),
      'Content-Security-Policy': MEDIA_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'X-Robots-Tag': 'noindex, nofollow, noarchive, noimageindex',
      // Content behind an mxc:// URI never changes; authenticated answers
      // must not be kept by shared caches, which would skip the token check.
      'Cache-Control': opts.authenticated ? 'private, max-age=86400' : 'public, max-age=86400, s-maxage=86400',
    },
  };
}

/**
 * The federation media answer (content_repository.yaml): multipart/mixed
 * with an empty JSON metadata part, then the content under the same
 * Content-Type and Content-Disposition a client would get. The file is
 * streamed between the framing, never read into memory.
 */
export function multipartMediaResponse(content: MediaContent, fileName: string | null): MatrixResponse {
  const boundary = randomUUID().replaceAll('-', '');
  const { head, tail } = multipartFraming(boundary, '{}', {
    'Content-Type': servedContentType(content.contentType),
    'Content-Disposition': contentDisposition(content.contentType, fileName),
  });
  const open = (): Readable =>
    Readable.from(
      (async function* () {
        yield head;
        yield* content.open();
        yield tail;
      })(),
    );
  return { body: new StreamBody(head.length + content.size + tail.length, open), headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}` } };
}

const THUMBNAIL_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/apng': 'apng',
};

/** Thumbnails are always `inline` with a generic name (authed-content-repo.yaml). */
export function thumbnailFileName(contentType: string): string {
  return `thumbnail.${THUMBNAIL_EXTENSIONS[baseContentType(contentType)] ?? 'png'}`;
}
