// Federation media (server-server-api "Content Repository";
// data/api/server-server/content_repository.yaml): other servers download
// this server's media, and thumbnails of it, as multipart/mixed. Only media
// uploaded here is served; what we cached from a third server is theirs to
// serve.
import type { MediaRepository } from '../../services/media/index.js';
import { thumbnailRequestOf } from '../media/download.js';
import { multipartMediaResponse, thumbnailFileName } from '../media/serve.js';
import type { MatrixRequest, Route } from '../types.js';
import { queryInteger } from '../validate.js';

const V1 = '/_matrix/federation/v1/media';

export function federationMediaRoutes(media: MediaRepository): Route[] {
  const timeoutMs = (req: MatrixRequest) => queryInteger(req.query, 'timeout_ms', { min: 0 });
  return [
    /** # GET /_matrix/federation/v1/media/download/{mediaId} */
    {
      method: 'GET',
      path: `${V1}/download/{mediaId}`,
      auth: 'federation',
      handler: async (req) => {
        const content = await media.download(media.serverName, req.params.mediaId!, { timeoutMs: timeoutMs(req) });
        return multipartMediaResponse(content, content.uploadName);
      },
    },
    /** # GET /_matrix/federation/v1/media/thumbnail/{mediaId} */
    {
      method: 'GET',
      path: `${V1}/thumbnail/{mediaId}`,
      auth: 'federation',
      handler: async (req) => {
        const content = await media.thumbnail(media.serverName, req.params.mediaId!, thumbnailRequestOf(req), { timeoutMs: timeoutMs(req) });
        return multipartMediaResponse(content, thumbnailFileName(content.contentType));
      },
    },
  ];
}
