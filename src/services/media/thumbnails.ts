// Thumbnail geometry and generation (client-server-api/modules/content_repo.md,
// "Thumbnails"). Geometry is pure: which size to produce for a request, never
// upscaling. Generation uses sharp (libvips), which decodes on libuv's thread
// pool, so the event loop stays free while an image is resized.
import sharp from 'sharp';
import type { ThumbnailSize } from '../../config/types.js';

export type ThumbnailMethod = 'crop' | 'scale';

export interface Dimensions {
  width: number;
  height: number;
}

/** A thumbnail we could produce: its real pixel size, method and output type. */
export interface ThumbnailCandidate extends Dimensions {
  method: ThumbnailMethod;
  contentType: string;
}

/**
 * Types we decode, and the static type each is thumbnailed to: Synapse's
 * THUMBNAIL_SUPPORTED_MEDIA_FORMAT_MAP (PNG keeps transparency, photos get JPEG).
 */
const STATIC_OUTPUT_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': 'image/jpeg',
  'image/jpg': 'image/jpeg',
  'image/webp': 'image/jpeg',
  'image/gif': 'image/png',
  'image/png': 'image/png',
};

/** Types that can carry animation which sharp can also write back animated. */
const ANIMATABLE = new Set(['image/gif', 'image/webp']);

/** Types a thumbnail response may have (authed-content-repo.yaml, thumbnail Content-Type). */
export const THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png', 'image/apng', 'image/gif', 'image/webp']);

export function baseContentType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function canThumbnail(contentType: string | null): boolean {
  return baseContentType(contentType) in STATIC_OUTPUT_TYPE;
}

/** The output type: the original's for animated output, else JPEG or PNG. */
export function outputType(contentType: string, animated: boolean): string {
  const base = baseContentType(contentType);
  if (animated && ANIMATABLE.has(base)) return base;
  return STATIC_OUTPUT_TYPE[base] ?? 'image/png';
}

/**
 * The size a `method` thumbnail aimed at `target` really has for an original of
 * `original` size. "scale" keeps the aspect ratio and fits inside the target;
 * "crop" fills the target's aspect ratio. Neither upscales ("Servers MUST NOT
 * upscale thumbnails under any circumstance"): past the original's size, scale
 * gives the original size and crop the largest region of the target's aspect.
 */
export function thumbnailDimensions(original: Dimensions, target: Dimensions, method: ThumbnailMethod): Dimensions {
  const { width: w, height: h } = original;
  const { width: tw, height: th } = target;
  if (method === 'scale') {
    const fitted = tw * h < th * w ? { width: tw, height: Math.max(Math.floor((tw * h) / w), 1) } : { width: Math.max(Math.floor((th * w) / h), 1), height: th };
    return fitted.width >= w || fitted.height >= h ? { width: w, height: h } : fitted;
  }
  if (tw <= w && th <= h) return { width: tw, height: th };
  // The largest tw:th region inside the original.
  return w * th > h * tw
    ? { width: Math.max(Math.floor((h * tw) / th), 1), height: h }
    : { width: w, height: Math.max(Math.floor((w * th) / tw), 1) };
}

export interface Selection {
  candidate: ThumbnailCandidate;
  /** False when every candidate is smaller than asked for in both dimensions. */
  bigEnough: boolean;
}

/**
 * Synapse's choice among available thumbnails (MediaRepository's
 * _select_thumbnail): prefer those at least as big as asked in one dimension;
 * for crop, then the closest aspect ratio, ones big enough in both dimensions,
 * the closest area, the wanted type; for scale, the closest area and type.
 * Ties keep list order.
 */
export function selectThumbnail(desired: Dimensions & { method: ThumbnailMethod; contentType: string }, candidates: readonly ThumbnailCandidate[]): Selection | undefined {
  const { width: dw, height: dh } = desired;
  const scored = candidates
    .filter((c) => c.method === desired.method)
    .map((c, index) => {
      const aspect = desired.method === 'crop' ? Math.abs(dw * c.height - dh * c.width) : 0;
      const notBothBigger = desired.method === 'crop' && !(dw <= c.width && dh <= c.height) ? 1 : 0;
      const area = Math.abs((dw - c.width) * (dh - c.height));
      const wrongType = c.contentType === desired.contentType ? 0 : 1;
      return { c, index, bigEnough: c.width >= dw || c.height >= dh, key: [aspect, notBothBigger, area, wrongType] };
    });
  const compare = (a: (typeof scored)[number], b: (typeof scored)[number]): number => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! - b.key[i]!;
    return a.index - b.index;
  };
  const pool = scored.some((s) => s.bigEnough) ? scored.filter((s) => s.bigEnough) : scored;
  const best = pool.sort(compare)[0];
  return best && { candidate: best.c, bigEnough: best.bigEnough };
}

/** What can be thumbnailed from an image's header. */
export interface ImageInfo extends Dimensions {
  /** More than one frame (animated GIF or WebP). */
  animated: boolean;
}

/** Reads an image's size (as displayed, after EXIF rotation) without decoding its pixels. */
export async function readImageInfo(path: string): Promise<ImageInfo | undefined> {
  try {
    const meta = await sharp(path, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) return undefined;
    const rotated = (meta.orientation ?? 1) >= 5;
    const height = meta.pageHeight ?? meta.height;
    return {
      width: rotated ? height : meta.width,
      height: rotated ? meta.width : height,
      animated: (meta.pages ?? 1) > 1,
    };
  } catch {
    // Not an image libvips can read: the caller answers "cannot thumbnail".
    return undefined;
  }
}

/** Renders a thumbnail of exactly `target.width`×`target.height` (already computed not to upscale). */
export async function renderThumbnail(path: string, target: ThumbnailCandidate, animated: boolean, maxPixels: number): Promise<Buffer> {
  const image = sharp(path, { animated, limitInputPixels: maxPixels })
    .rotate()
    .resize(target.width, target.height, { fit: target.method === 'crop' ? 'cover' : 'fill' });
  switch (target.contentType) {
    case 'image/jpeg':
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: 80 }).toBuffer();
    case 'image/gif':
      return image.gif().toBuffer();
    case 'image/webp':
      return image.webp().toBuffer();
    default:
      return image.png().toBuffer();
  }
}

/** The configured sizes as candidates for one original. */
export function configuredCandidates(original: Dimensions, sizes: readonly ThumbnailSize[], contentType: string): ThumbnailCandidate[] {
  return sizes.map((size) => ({ ...thumbnailDimensions(original, size, size.method), method: size.method, contentType }));
}
