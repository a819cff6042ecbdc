// Reading content: download, thumbnail, config and preview_url, both the
// authenticated /_matrix/client/v1/media endpoints (authed-content-repo.yaml,
// Matrix 1.11) and the deprecated unauthenticated /_matrix/media/v3 ones
// (content-repo.yaml). The spec asks servers to "freeze" the latter for media
// uploaded after 1.12; Axon still serves all local media on them, because
// clients that predate authenticated media would otherwise show no images.
import type { JsonObject } from '../../core/types.js';
import type { MediaRepository } from '../../services/media/index.js';
import { invalidParam, missingParam } from '../../core/errors.js';
import type { MatrixRequest, MatrixResponse, Route } from '../types.js';
import { queryBoolean, queryInteger, requireQueryString } from '../validate.js';
import { requesterOf } from '../client/uia.js';
import { mediaResponse, thumbnailFileName } from './serve.js';

const LEGACY_VERSIONS = ['r0', 'v1'];
const AUTHED_PREFIX = '/_matrix/client/v1/media';
const LEGACY_PREFIX = '/_matrix/media/v3';

/** timeout_ms, and allow_remote checked for form; remote media is not fetched either way. */
function timeoutOf(req: MatrixRequest): number | undefined {
  queryBoolean(req.query, 'allow_remote');
  return queryInteger(req.query, 'timeout_ms', { min: 0 });
}

function dimension(req: MatrixRequest, name: 'width' | 'height'): number {
  const value = queryInteger(req.query, name, { min: 1 });
  if (value === undefined) throw missingParam(`Missing required query parameter '${name}'`);
  return value;
}

function thumbnailMethod(req: MatrixRequest): 'crop' | 'scale' {
  const method = req.query.get('method') ?? 'scale';
  if (method !== 'crop' && method !== 'scale') throw invalidParam(`Query parameter 'method' must be 'crop' or 'scale', not '${method}'`);
  return method;
}

export function mediaDownloadRoutes(media: MediaRepository): Route[] {
  const download = (authenticated: boolean) => async (req: MatrixRequest): Promise<MatrixResponse> => {
    const { serverName, mediaId, fileName } = req.params as { serverName: string; mediaId: string; fileName?: string };
    const content = await media.download(serverName, mediaId, timeoutOf(req));
    return mediaResponse(content, { fileName, authenticated });
  };

  const thumbnail = (authenticated: boolean) => async (req: MatrixRequest): Promise<MatrixResponse> => {
    const { serverName, mediaId } = req.params as { serverName: string; mediaId: string };
    const request = { width: dimension(req, 'width'), height: dimension(req, 'height'), method: thumbnailMethod(req), animated: queryBoolean(req.query, 'animated') };
    const content = await media.thumbnail(serverName, mediaId, request, timeoutOf(req));
    return mediaResponse(content, { fileName: thumbnailFileName(content.contentType), authenticated });
  };

  const config = async (): Promise<MatrixResponse> => ({ body: { 'm.upload.size': media.maxUploadSize } });

  const previewUrl = async (req: MatrixRequest): Promise<MatrixResponse> => {
    queryInteger(req.query, 'ts');
    const preview: JsonObject = await media.previewUrl(requireQueryString(req.query, 'url'), requesterOf(req).userId);
    return { body: preview };
  };

  return [
    /** # GET /_matrix/client/v1/media/download/{serverName}/{mediaId} */
    { method: 'GET', path: `${AUTHED_PREFIX}/download/{serverName}/{mediaId}`, auth: 'required', guests: true, handler: download(true) },
    /** # GET /_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName} */
    { method: 'GET', path: `${AUTHED_PREFIX}/download/{serverName}/{mediaId}/{fileName}`, auth: 'required', guests: true, handler: download(true) },
    /** # GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId} */
    { method: 'GET', path: `${AUTHED_PREFIX}/thumbnail/{serverName}/{mediaId}`, auth: 'required', guests: true, handler: thumbnail(true) },
    /** # GET /_matrix/client/v1/media/config */
    { method: 'GET', path: `${AUTHED_PREFIX}/config`, auth: 'required', guests: true, handler: config },
    /** # GET /_matrix/media/v3/download/{serverName}/{mediaId} (deprecated, unauthenticated) */
    { method: 'GET', path: `${LEGACY_PREFIX}/download/{serverName}/{mediaId}`, auth: 'none', aliasVersions: LEGACY_VERSIONS, handler: download(false) },
    /** # GET /_matrix/media/v3/download/{serverName}/{mediaId}/{fileName} (deprecated, unauthenticated) */
    { method: 'GET', path: `${LEGACY_PREFIX}/download/{serverName}/{mediaId}/{fileName}`, auth: 'none', aliasVersions: LEGACY_VERSIONS, handler: download(false) },
    /** # GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId} (deprecated, unauthenticated) */
    { method: 'GET', path: `${LEGACY_PREFIX}/thumbnail/{serverName}/{mediaId}`, auth: 'none', aliasVersions: LEGACY_VERSIONS, handler: thumbnail(false) },
    /** # GET /_matrix/media/v3/config (deprecated) */
    { method: 'GET', path: `${LEGACY_PREFIX}/config`, auth: 'required', aliasVersions: LEGACY_VERSIONS, handler: config },
    /** # GET /_matrix/client/v1/media/preview_url */
    { method: 'GET', path: `${AUTHED_PREFIX}/preview_url`, auth: 'required', handler: previewUrl },
    /** # GET /_matrix/media/v3/preview_url (deprecated) */
    { method: 'GET', path: `${LEGACY_PREFIX}/preview_url`, auth: 'required', aliasVersions: LEGACY_VERSIONS, handler: previewUrl },
  ];
}
