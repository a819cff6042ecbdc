// multipart/mixed bodies (RFC 2046 §5.1) as federation media uses them
// (server-server-api "Content Repository"; content_repository.yaml): exactly
// two parts, JSON metadata first, then the media's bytes (or a Location to
// fetch them from). Writing keeps the bytes out of memory: callers get the
// framing before and after the content and stream the file between them.

const CRLF = '\r\n';

export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The framing around the second part's bytes, laid out as Synapse writes
 * it: `head` holds the JSON part and the second part's headers, `tail` the
 * closing delimiter. The response body is head + content + tail.
 */
export function multipartFraming(boundary: string, metadata: string, contentHeaders: Record<string, string>): { head: Buffer; tail: Buffer } {
  const headers = Object.entries(contentHeaders)
    .map(([name, value]) => `${name}: ${value}${CRLF}`)
    .join('');
  const head = `${CRLF}--${boundary}${CRLF}Content-Type: application/json${CRLF}${CRLF}${metadata}${CRLF}--${boundary}${CRLF}${headers}${CRLF}`;
  return { head: Buffer.from(head, 'utf8'), tail: Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'utf8') };
}

/** The boundary parameter of a multipart Content-Type, unquoted; undefined when absent. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * Splits a multipart body into its parts. Throws an Error saying what is
 * wrong when the body is not framed by `boundary` or is cut short.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  // A delimiter is CRLF "--" boundary; the first may open the body without the CRLF.
  const delimiter = Buffer.from(`${CRLF}--${boundary}`, 'utf8');
  const framed = Buffer.concat([Buffer.from(CRLF), body]);
  let at = framed.indexOf(delimiter);
  if (at < 0) throw new Error(`the body has no "--${boundary}" delimiter`);
  const parts: MultipartPart[] = [];
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (framed.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') return parts;
    const lineEnd = framed.indexOf(CRLF, afterDelimiter);
    if (lineEnd < 0) throw new Error('the body ends inside a delimiter line');
    const next = framed.indexOf(delimiter, lineEnd);
    if (next < 0) throw new Error('the body ends before the closing delimiter');
    parts.push(parsePart(framed.subarray(lineEnd + CRLF.length, next)));
    at = next;
  }
}

function parsePart(part: Buffer): MultipartPart {
  // A part with no headers starts with the blank line itself.
  const headerEnd = part.subarray(0, 2).toString('latin1') === CRLF ? 0 : part.indexOf(`${CRLF}${CRLF}`);
  if (headerEnd < 0) throw new Error('a part has no blank line after its headers');
  const headers: Record<string, string> = {};
  for (const line of part.subarray(0, headerEnd).toString('utf8').split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: part.subarray(headerEnd === 0 ? CRLF.length : headerEnd + 2 * CRLF.length) };
}
