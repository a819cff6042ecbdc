// The media repository (client-server-api/modules/content_repo.md): uploads,
// async uploads (POST /create then PUT), downloads of local media, thumbnails
// and URL previews. Remote media (other servers' mxc:// URIs) needs federation
// media and is answered 404 for now.
import { createHash, randomInt } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { HomeserverConfig, ThumbnailSize } from '../../config/types.js';
import { MEDIA_DEFAULTS } from '../../config/load.js';
import type { JsonObject } from '../../core/types.js';
import { forbidden, MatrixError, notFound } from '../../core/errors.js';
import type { Database } from '../../storage/database.js';
import { MediaStore, type LocalMedia, type MediaThumbnail, type UploadedContent } from '../../storage/media.js';
import { isSafeMediaId, MediaFiles } from './files.js';
import { IpPolicy } from '../../core/ip-policy.js';
import { UrlPreviewer, type FetchedResource } from './preview.js';
import {
  baseContentType,
  canThumbnail,
  configuredCandidates,
  outputType,
  readImageInfo,
  renderThumbnail,
  selectThumbnail,
  thumbnailDimensions,
  THUMBNAIL_TYPES,
  type ImageInfo,
  type ThumbnailCandidate,
  type ThumbnailMethod,
} from './thumbnails.js';

/** Synapse's defaults for async uploads: unused_expiration_time and max_pending_media_uploads. */
export const UNUSED_EXPIRATION_MS = 24 * 60 * 60 * 1000;
export const MAX_PENDING_UPLOADS = 5;
/** The spec's default wait for content not yet uploaded, and our ceiling for it. */
export const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_TIMEOUT_MS = 120_000;

const MEDIA_ID_LENGTH = 24;
const MEDIA_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Content ready to send: its bytes as a stream, and what the headers need. */
export interface MediaContent {
  contentType: string;
  size: number;
  uploadName: string | null;
  open: () => Readable;
}

export interface ThumbnailRequest {
  width: number;
  height: number;
  method: ThumbnailMethod;
  /** The client's `animated` parameter; undefined when not sent. */
  animated: boolean | undefined;
}

export function newMediaId(): string {
  let id = '';
  for (let i = 0; i < MEDIA_ID_LENGTH; i++) id += MEDIA_ID_ALPHABET[randomInt(MEDIA_ID_ALPHABET.length)];
  return id;
}

function notYetUploaded(): MatrixError {
  return new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded; try again later or with a longer timeout_ms');
}

function cannotThumbnail(mediaId: string): MatrixError {
  return new MatrixError(400, 'M_UNKNOWN', `Cannot generate thumbnails for the requested content (${mediaId}): it is not a JPEG, PNG, GIF or WebP image`);
}

export class MediaRepository {
  readonly store: MediaStore;
  readonly files: MediaFiles;
  readonly serverName: string;
  readonly maxUploadSize: number;
  /** Null when url_preview_enabled is false. */
  readonly previewer: UrlPreviewer | null;
  private readonly maxImagePixels: number;
  private readonly dynamicThumbnails: boolean;
  private readonly thumbnailSizes: readonly ThumbnailSize[];
  /** Downloads waiting for an async upload, by media ID. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Async uploads in progress, so two PUTs to one URI cannot interleave their files. */
  private readonly uploading = new Set<string>();
  /** Thumbnails being rendered, so concurrent requests render each once. */
  private readonly rendering = new Map<string, Promise<MediaThumbnail>>();

  constructor(
    db: Database,
    config: HomeserverConfig,
    private readonly clock: () => number,
  ) {
    this.store = new MediaStore(db);
    this.files = new MediaFiles(config.mediaStorePath);
    this.serverName = config.serverName;
    this.maxUploadSize = config.maxUploadSize;
    this.maxImagePixels = config.maxImagePixels ?? MEDIA_DEFAULTS.maxImagePixels;
    this.dynamicThumbnails = config.dynamicThumbnails ?? MEDIA_DEFAULTS.dynamicThumbnails;
    this.thumbnailSizes = config.thumbnailSizes ?? MEDIA_DEFAULTS.thumbnailSizes;
    const previewsOn = config.urlPreviewEnabled ?? MEDIA_DEFAULTS.urlPreviewEnabled;
    const policy = new IpPolicy(config.urlPreviewIpRangeBlacklist ?? MEDIA_DEFAULTS.urlPreviewIpRangeBlacklist, config.urlPreviewIpRangeWhitelist ?? []);
    const maxBytes = config.maxSpiderSize ?? MEDIA_DEFAULTS.maxSpiderSize;
    this.previewer = previewsOn ? new UrlPreviewer(policy, maxBytes, (image, userId) => this.storePreviewImage(image, userId), clock) : null;
  }

  mxcUri(mediaId: string): string {
    return `mxc://${this.serverName}/${mediaId}`;
  }

  // ---------------------------------------------------------------- upload

  /** POST /media/v3/upload: stores the bytes, then records them. */
  async upload(userId: string, bytes: Buffer, contentType: string | undefined, uploadName: string | undefined): Promise<string> {
    const mediaId = newMediaId();
    const content = await this.writeContent(mediaId, bytes, contentType, uploadName);
    try {
      await this.store.insertUploaded(mediaId, userId, content);
    } catch (err) {
      await this.files.remove(this.files.contentPath(mediaId));
      throw err;
    }
    return this.mxcUri(mediaId);
  }

  /** POST /media/v1/create: reserves an mxc:// URI, limited per user as the spec asks. */
  async create(userId: string): Promise<{ contentUri: string; unusedExpiresAt: number }> {
    const now = this.clock();
    if ((await this.store.countPending(userId, now)) >= MAX_PENDING_UPLOADS) {
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', `You have ${MAX_PENDING_UPLOADS} media uploads pending; upload to those before creating more`);
    }
    const mediaId = newMediaId();
    const unusedExpiresAt = now + UNUSED_EXPIRATION_MS;
    await this.store.insertPending(mediaId, userId, now, unusedExpiresAt);
    return { contentUri: this.mxcUri(mediaId), unusedExpiresAt };
  }

  /** PUT /media/v3/upload/{serverName}/{mediaId}: the content for a created URI. */
  async uploadToCreated(userId: string, serverName: string, mediaId: string, bytes: Buffer, contentType: string | undefined, uploadName: string | undefined): Promise<void> {
    const media = serverName === this.serverName && isSafeMediaId(mediaId) ? await this.store.get(mediaId) : undefined;
    if (!media || this.hasExpired(media)) throw notFound(`Unknown media ID mxc://${serverName}/${mediaId}: create one with POST /_matrix/media/v1/create`);
    if (media.userId !== userId) throw forbidden('Only the user who created this media ID may upload to it');
    if (media.uploadedTs !== null || this.uploading.has(mediaId)) throw cannotOverwrite();
    this.uploading.add(mediaId);
    try {
      const content = await this.writeContent(mediaId, bytes, contentType, uploadName);
      if (!(await this.store.completePending(mediaId, content))) throw cannotOverwrite();
    } finally {
      this.uploading.delete(mediaId);
    }
    this.wake(mediaId);
  }

  private hasExpired(media: LocalMedia): boolean {
    return media.uploadedTs === null && media.unusedExpiresTs !== null && media.unusedExpiresTs <= this.clock();
  }

  private async writeContent(mediaId: string, bytes: Buffer, contentType: string | undefined, uploadName: string | undefined): Promise<UploadedContent> {
    if (bytes.length > this.maxUploadSize) {
      throw new MatrixError(413, 'M_TOO_LARGE', `Cannot upload files larger than ${this.maxUploadSize} bytes (max_upload_size)`);
    }
    await this.files.writeAtomically(this.files.contentPath(mediaId), bytes);
    return {
      // The spec's default for a missing Content-Type (content-repo.yaml, 1.12).
      contentType: contentType?.trim() || 'application/octet-stream',
      uploadName: uploadName === undefined || uploadName === '' ? null : uploadName,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      uploadedTs: this.clock(),
    };
  }

  // -------------------------------------------------------------- download

  /**
   * The uploaded media behind mxc://serverName/mediaId, waiting up to
   * `timeoutMs` for a pending async upload. 404 for unknown, expired,
   * quarantined and remote media.
   */
  async getMedia(serverName: string, mediaId: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<LocalMedia> {
    if (serverName !== this.serverName) {
      throw notFound(`Remote media (mxc://${serverName}/${mediaId}) cannot be fetched: this server does not support federation media yet`);
    }
    const unknown = (): MatrixError => notFound(`Unknown media mxc://${serverName}/${mediaId}`);
    if (!isSafeMediaId(mediaId)) throw unknown();
    let media = await this.store.get(mediaId);
    if (!media || media.quarantined || this.hasExpired(media)) throw unknown();
    if (media.uploadedTs === null) {
      await this.waitForUpload(mediaId, Math.min(Math.max(timeoutMs, 0), MAX_TIMEOUT_MS));
      media = await this.store.get(mediaId);
      if (!media || media.quarantined) throw unknown();
      if (media.uploadedTs === null) throw notYetUploaded();
    }
    return media;
  }

  async download(serverName: string, mediaId: string, timeoutMs?: number): Promise<MediaContent> {
    const media = await this.getMedia(serverName, mediaId, timeoutMs);
    const path = this.files.contentPath(media.mediaId);
    const size = await this.files.sizeOf(path);
    if (size === undefined) throw notFound(`The file of mxc://${serverName}/${mediaId} is missing from the media store`);
    return { contentType: media.contentType ?? 'application/octet-stream', size, uploadName: media.uploadName, open: () => this.files.openRead(path) };
  }

  private waitForUpload(mediaId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(mediaId) ?? new Set();
      this.waiters.set(mediaId, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(mediaId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  private wake(mediaId: string): void {
    for (const done of [...(this.waiters.get(mediaId) ?? [])]) done();
  }

  /** Releases every waiting download (server shutdown). */
  wakeAll(): void {
    for (const mediaId of [...this.waiters.keys()]) this.wake(mediaId);
  }

  // ------------------------------------------------------------ thumbnails

  /**
   * A thumbnail per client-server-api "Thumbnails": the original when it is
   * no bigger than asked (and a static image, unless animation was asked
   * for), else the best configured size (or, with dynamic_thumbnails, the
   * exact size), rendered once and cached on disk.
   */
  async thumbnail(serverName: string, mediaId: string, request: ThumbnailRequest, timeoutMs?: number): Promise<MediaContent> {
    const media = await this.getMedia(serverName, mediaId, timeoutMs);
    if (!canThumbnail(media.contentType)) throw cannotThumbnail(mediaId);
    const path = this.files.contentPath(media.mediaId);
    const info = await readImageInfo(path);
    if (!info) throw cannotThumbnail(mediaId);
    if (info.width * info.height > this.maxImagePixels) {
      throw new MatrixError(413, 'M_TOO_LARGE', `Content is too large to thumbnail: ${info.width}×${info.height} is over max_image_pixels (${this.maxImagePixels})`);
    }
    const animated = request.animated === true && info.animated;
    const originalType = baseContentType(media.contentType);
    // "When the content is smaller than the requested dimensions, servers
    // should return the original content rather than thumbnail it" — but
    // never an animation the client did not ask for.
    const originalServable = THUMBNAIL_TYPES.has(originalType) && (!info.animated || animated);
    if (originalServable && info.width <= request.width && info.height <= request.height) {
      return this.download(serverName, mediaId, timeoutMs);
    }
    const type = outputType(originalType, animated);
    const chosen = this.chooseThumbnail(info, request, type);
    if (!chosen.bigEnough && originalServable) return this.download(serverName, mediaId, timeoutMs);
    const thumbnail = await this.cachedThumbnail(media.mediaId, path, chosen.candidate, animated);
    const thumbPath = this.files.thumbnailPath(media.mediaId, thumbnail.width, thumbnail.height, thumbnail.contentType, thumbnail.method);
    return { contentType: thumbnail.contentType, size: thumbnail.size, uploadName: null, open: () => this.files.openRead(thumbPath) };
  }

  private chooseThumbnail(info: ImageInfo, request: ThumbnailRequest, contentType: string): { candidate: ThumbnailCandidate; bigEnough: boolean } {
    if (this.dynamicThumbnails) {
      return { candidate: { ...thumbnailDimensions(info, request, request.method), method: request.method, contentType }, bigEnough: true };
    }
    const desired = { ...request, contentType };
    const selection =
      selectThumbnail(desired, configuredCandidates(info, this.thumbnailSizes, contentType)) ??
      // No configured size of this method: offer every size made that way.
      selectThumbnail(desired, configuredCandidates(info, this.thumbnailSizes.map((s) => ({ ...s, method: request.method })), contentType));
    if (!selection) throw cannotThumbnail('no thumbnail_sizes are configured');
    return selection;
  }

  private async cachedThumbnail(mediaId: string, source: string, target: ThumbnailCandidate, animated: boolean): Promise<MediaThumbnail> {
    const key = `${mediaId}/${target.width}x${target.height}/${target.method}/${target.contentType}`;
    const existing = (await this.store.thumbnails(mediaId)).find(
      (t) => t.width === target.width && t.height === target.height && t.method === target.method && t.contentType === target.contentType,
    );
    const path = this.files.thumbnailPath(mediaId, target.width, target.height, target.contentType, target.method);
    if (existing && (await this.files.sizeOf(path)) !== undefined) return existing;
    const inFlight = this.rendering.get(key);
    if (inFlight) return inFlight;
    const render = (async (): Promise<MediaThumbnail> => {
      let bytes: Buffer;
      try {
        bytes = await renderThumbnail(source, target, animated, this.maxImagePixels);
      } catch (err) {
        throw new MatrixError(400, 'M_UNKNOWN', `Cannot generate a thumbnail for ${mediaId}: ${(err as Error).message}`);
      }
      await this.files.writeAtomically(path, bytes);
      const thumbnail: MediaThumbnail = { mediaId, width: target.width, height: target.height, method: target.method, contentType: target.contentType, size: bytes.length };
      await this.store.insertThumbnail(thumbnail);
      return thumbnail;
    })();
    this.rendering.set(key, render);
    try {
      return await render;
    } finally {
      this.rendering.delete(key);
    }
  }

  // -------------------------------------------------------------- previews

  /**
   * GET /media/preview_url. With previews off the endpoint still exists (it
   * is the spec's) and refuses: 403 M_FORBIDDEN, the server declining by
   * policy, rather than a 404 that would claim the URL was not found.
   * Clients treat any error as "no preview".
   */
  async previewUrl(url: string, userId: string): Promise<JsonObject> {
    if (!this.previewer) throw forbidden('URL previews are disabled on this server (url_preview_enabled: false)');
    return this.previewer.preview(url, userId);
  }

  /** A preview's image becomes local media, recorded as uploaded by the user who asked first. */
  private async storePreviewImage(image: FetchedResource, userId: string): Promise<{ contentUri: string; size: number; width?: number; height?: number }> {
    const contentUri = await this.upload(userId, image.body, image.contentType, undefined);
    const mediaId = contentUri.slice(contentUri.lastIndexOf('/') + 1);
    const info = canThumbnail(image.contentType) ? await readImageInfo(this.files.contentPath(mediaId)) : undefined;
    return { contentUri, size: image.body.length, width: info?.width, height: info?.height };
  }
}

function cannotOverwrite(): MatrixError {
  return new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded: an mxc:// URI takes content only once');
}
