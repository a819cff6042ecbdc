// URL previews (authed-content-repo.yaml, GET /media/preview_url): the
// homeserver fetches a page for a client and returns its OpenGraph data.
// Fetching arbitrary URLs from inside a network is dangerous, so every
// connection goes through `lookup`, which resolves the name, refuses it if
// any address falls in url_preview_ip_range_blacklist (and not in the
// whitelist), and hands the checked address to the socket: a name cannot
// resolve to a safe address for the check and a private one for the connect.
// Redirects are followed by hand so each hop is checked the same way.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { JsonObject } from '../../core/types.js';
import { MatrixError } from '../../core/errors.js';
import type { IpPolicy } from '../../core/ip-policy.js';

/** One fetch, redirects included, must finish within this. */
const FETCH_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 5;
const CACHE_TTL_MS = 60 * 60 * 1000;
const MAX_CACHE_ENTRIES = 1000;
/** Synapse trims descriptions to this many characters. */
const MAX_DESCRIPTION_CHARS = 500;

export interface FetchedResource {
  url: string;
  contentType: string;
  body: Buffer;
}

/** Stores a fetched image as local media; returns its mxc:// URI and what is known of it. */
export type StoreImage = (image: FetchedResource, userId: string) => Promise<{ contentUri: string; size: number; width?: number; height?: number }>;

class BlockedAddressError extends Error {}

function blockedIp(): MatrixError {
  return new MatrixError(403, 'M_UNKNOWN', 'IP address blocked by IP blacklist entry');
}

/** A DNS lookup that fails when any address of the name is blocked. */
function guardedLookup(policy: IpPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const blocked = addresses.find((a) => policy.isBlocked(a.address));
      if (blocked) return callback(new BlockedAddressError(`${hostname} resolves to ${blocked.address}, which url_preview_ip_range_blacklist blocks`), '', 0);
      if (addresses.length === 0) return callback(new Error(`${hostname} has no addresses`), '', 0);
      // Node's happy-eyeballs connect asks for every address; plain connects for one.
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function fetchFailed(message: string): MatrixError {
  return new MatrixError(502, 'M_UNKNOWN', message);
}

function tooLarge(url: URL, maxBytes: number): MatrixError {
  return new MatrixError(502, 'M_TOO_LARGE', `${url.href} is larger than the ${maxBytes}-byte limit for URL previews (max_spider_size)`);
}

/** One GET, no redirects followed; resolves with the response head and a body of at most `maxBytes`. */
function getOnce(url: URL, policy: IpPolicy, signal: AbortSignal, maxBytes: number): Promise<{ response: IncomingMessage; body: Buffer }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && policy.isBlocked(host)) return Promise.reject(blockedIp());
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'GET',
      lookup: guardedLookup(policy),
      signal,
      headers: { 'User-Agent': 'Axon (Matrix homeserver; URL preview)', Accept: 'text/html, image/*;q=0.9, */*;q=0.5' },
    });
    req.on('error', (err) => {
      if (err instanceof BlockedAddressError) reject(fetchFailed(`DNS resolution failure during URL preview generation: ${err.message}`));
      else if (signal.aborted) reject(fetchFailed(`Timed out fetching ${url.href} for a URL preview`));
      else reject(fetchFailed(`Failed to fetch ${url.href} for a URL preview: ${err.message}`));
    });
    req.on('response', (response) => {
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        response.destroy();
        reject(tooLarge(url, maxBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          response.destroy();
          reject(tooLarge(url, maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks, size) }));
      response.on('error', (err) => reject(fetchFailed(`Failed to read ${url.href}: ${err.message}`)));
    });
    req.end();
  });
}

function parseHttpUrl(text: string, base?: URL): URL | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** GET with redirects, every hop's address checked against the IP policy after its own DNS lookup. */
export async function fetchForPreview(start: URL, policy: IpPolicy, maxBytes: number): Promise<FetchedResource> {
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let url = start;
  for (let hop = 0; ; hop++) {
    const { response, body } = await getOnce(url, policy, signal, maxBytes);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      if (hop >= MAX_REDIRECTS) throw fetchFailed(`Too many redirects fetching ${start.href}`);
      const next = parseHttpUrl(location, url);
      if (!next) throw fetchFailed(`${url.href} redirects to an unsupported location: ${location}`);
      url = next;
      continue;
    }
    if (status < 200 || status >= 300) throw fetchFailed(`Got HTTP ${status} fetching ${url.href}`);
    return { url: url.href, contentType: String(response.headers['content-type'] ?? 'application/octet-stream'), body };
  }
}

// ------------------------------------------------------------ HTML parsing

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([^\s=/>"']+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
    attrs.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

/** The charset from a Content-Type header or a <meta charset>, defaulting to UTF-8. */
function decodeHtml(body: Buffer, contentType: string): string {
  const head = body.subarray(0, 4096).toString('latin1');
  const declared = /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ?? /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(declared).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** Text of an element's content: entities decoded, whitespace collapsed; undefined when empty. */
function elementText(inner: string | undefined): string | undefined {
  if (inner === undefined) return undefined;
  const text = decodeEntities(inner.replace(/<[^>]*>/g, ' ')).trim().replace(/\s+/g, ' ');
  return text === '' ? undefined : text;
}

/**
 * Where the element that starts at `open` ends: the index after its end tag
 * (`</name>`, or `-->` for a comment), or the end of the text when it is
 * never closed. One forward search, so a page of unclosed tags costs linear
 * time, not quadratic as a lazy regex would.
 */
function elementEnd(html: string, open: RegExpExecArray): { contentStart: number; contentEnd: number; end: number } {
  const contentStart = open.index + open[0].length;
  const close = open[0].startsWith('<!--') ? /-->/g : new RegExp(`</${open[1]}\\s*>`, 'gi');
  close.lastIndex = contentStart;
  const found = close.exec(html);
  return found ? { contentStart, contentEnd: found.index, end: found.index + found[0].length } : { contentStart, contentEnd: html.length, end: html.length };
}

/** The content of the first element whose start tag `open` matches (tag name in group 1). */
function firstElement(html: string, open: RegExp): string | undefined {
  const start = open.exec(html);
  if (!start) return undefined;
  const { contentStart, contentEnd } = elementEnd(html, start);
  return html.slice(contentStart, contentEnd);
}

/** Comments, and elements whose text is not the page's prose (Synapse's parse_html_description skips the same). */
const NON_PROSE = /<!--|<(script|style|noscript|svg|iframe|video|canvas|picture|header|nav|aside|footer|template)\b[^>]*>/gi;

/** The start of the body's prose, as a description of last resort. */
function bodyText(html: string): string | undefined {
  const body = firstElement(html, /<(body)\b[^>]*>/i);
  if (body === undefined) return undefined;
  const prose: string[] = [];
  let at = 0;
  NON_PROSE.lastIndex = 0;
  for (let skip = NON_PROSE.exec(body); skip; skip = NON_PROSE.exec(body)) {
    prose.push(body.slice(at, skip.index));
    at = elementEnd(body, skip).end;
    NON_PROSE.lastIndex = at;
  }
  prose.push(body.slice(at));
  return elementText(prose.join(' '));
}

/** Synapse's choice of picture for a page without og:image: the largest <img> over 10×10 pixels, else the first <img>. */
function pageImage(html: string): string | undefined {
  let best: { src: string; area: number } | undefined;
  let first: string | undefined;
  for (const m of html.matchAll(/<img\b([^>]*)>/gi)) {
    const attrs = attributes(m[1]!);
    const src = attrs.get('src');
    if (!src) continue;
    first ??= src;
    const width = Number(attrs.get('width'));
    const height = Number(attrs.get('height'));
    if (width > 10 && height > 10 && (best === undefined || width * height > best.area)) best = { src, area: width * height };
  }
  return best?.src ?? first;
}

/** Twitter card tags name the same things OpenGraph does (Synapse reads them too). */
const TWITTER_TO_OPEN_GRAPH: Readonly<Record<string, string>> = {
  'twitter:title': 'og:title',
  'twitter:description': 'og:description',
  'twitter:image': 'og:image',
  'twitter:image:src': 'og:image',
  'twitter:image:alt': 'og:image:alt',
  'twitter:site': 'og:site_name',
};

/**
 * OpenGraph fields of a page, as Synapse builds them: every
 * <meta property="og:…"> (and article:/profile:), then Twitter card tags
 * for what is missing; without og:title the <title> or first heading;
 * without og:image an itemprop image, the largest <img>, any <img>, or the
 * favicon; without og:description <meta name="description"> or the start of
 * the body's text. Regex scanning over a size-capped body: no DOM, nothing
 * a page can make grow beyond the bytes it sent.
 */
export function parseOpenGraph(body: Buffer, contentType: string): Record<string, string> {
  const html = decodeHtml(body, contentType);
  const og: Record<string, string> = {};
  const twitter: Record<string, string> = {};
  let description: string | undefined;
  let itempropImage: string | undefined;
  for (const m of html.matchAll(/<meta\b([^>]*)>/gi)) {
    const attrs = attributes(m[1]!);
    const content = attrs.get('content');
    if (content === undefined || content === '') continue;
    const key = (attrs.get('property') ?? attrs.get('name'))?.toLowerCase();
    if (key !== undefined && /^(og|article|profile):/.test(key)) og[key] ??= content;
    const twitterKey = key === undefined ? undefined : TWITTER_TO_OPEN_GRAPH[key];
    if (twitterKey !== undefined) twitter[twitterKey] ??= content;
    if (key === 'description') description ??= content;
    if (attrs.get('itemprop')?.toLowerCase() === 'image') itempropImage ??= content;
  }
  for (const [key, value] of Object.entries(twitter)) og[key] ??= value;
  const title = elementText(firstElement(html, /<(title)\b[^>]*>/i)) ?? elementText(firstElement(html, /<(h[1-3])\b[^>]*>/i));
  if (title !== undefined) og['og:title'] ??= title;
  const favicon = [...html.matchAll(/<link\b([^>]*)>/gi)].map((m) => attributes(m[1]!)).find((a) => a.get('rel')?.toLowerCase().includes('icon') && a.get('href'));
  const image = itempropImage ?? pageImage(html) ?? favicon?.get('href');
  if (image !== undefined) og['og:image'] ??= image;
  const summary = description ?? bodyText(html);
  if (summary !== undefined) og['og:description'] ??= summary;
  if (og['og:description'] !== undefined) og['og:description'] = og['og:description'].slice(0, MAX_DESCRIPTION_CHARS);
  return og;
}

// -------------------------------------------------------------- previewer

export class UrlPreviewer {
  private readonly cache = new Map<string, { expires: number; value: Promise<JsonObject> }>();

  constructor(
    private readonly policy: IpPolicy,
    /** max_spider_size: the largest page or image fetched. */
    private readonly maxBytes: number,
    private readonly storeImage: StoreImage,
    private readonly clock: () => number,
  ) {}

  /** The preview of `url`, from the cache when fetched within the last hour; `userId` asked for it. */
  preview(rawUrl: string, userId: string): Promise<JsonObject> {
    const url = parseHttpUrl(rawUrl);
    if (!url) return Promise.reject(new MatrixError(400, 'M_INVALID_PARAM', `'url' must be an absolute http:// or https:// URL, not '${rawUrl}'`));
    const key = url.href;
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = this.build(url, userId);
    this.remember(key, now + CACHE_TTL_MS, value);
    // Failures are not cached: the next request tries again.
    value.catch(() => this.cache.delete(key));
    return value;
  }

  private remember(key: string, expires: number, value: Promise<JsonObject>): void {
    this.cache.delete(key);
    this.cache.set(key, { expires, value });
    if (this.cache.size > MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }

  private async build(url: URL, userId: string): Promise<JsonObject> {
    const page = await fetchForPreview(url, this.policy, this.maxBytes);
    if (page.contentType.toLowerCase().startsWith('image/')) return this.imageFields(page, userId);
    if (!/^(text\/html|application\/xhtml\+xml)/i.test(page.contentType)) return {};
    const og: JsonObject = parseOpenGraph(page.body, page.contentType);
    const imageUrl = typeof og['og:image'] === 'string' ? parseHttpUrl(og['og:image'], new URL(page.url)) : undefined;
    delete og['og:image'];
    if (imageUrl) {
      // The spec's og:image is an mxc:// URI: the image is fetched and stored
      // here. A page whose image cannot be fetched still gets a preview.
      try {
        Object.assign(og, await this.imageFields(await fetchForPreview(imageUrl, this.policy, this.maxBytes), userId));
      } catch {
        // keep the text-only preview
      }
    }
    return og;
  }

  private async imageFields(image: FetchedResource, userId: string): Promise<JsonObject> {
    if (!image.contentType.toLowerCase().startsWith('image/')) return {};
    const stored = await this.storeImage(image, userId);
    const fields: JsonObject = { 'og:image': stored.contentUri, 'og:image:type': image.contentType.split(';')[0]!.trim(), 'matrix:image:size': stored.size };
    if (stored.width !== undefined) fields['og:image:width'] = stored.width;
    if (stored.height !== undefined) fields['og:image:height'] = stored.height;
    return fields;
  }
}
