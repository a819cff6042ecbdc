// Uploading content (content-repo.yaml): direct uploads and the async
// create-then-PUT flow of Matrix 1.7. These stay under /_matrix/media; the
// spec has not moved them to /_matrix/client yet.
import type { MediaRepository } from '../../services/media/index.js';
import type { MatrixRequest, Route } from '../types.js';
import { queryString } from '../validate.js';
import { requesterOf } from '../client/uia.js';

/** Synapse also answers the r0 and the pre-r0 v1 media prefixes. */
const LEGACY_VERSIONS = ['r0', 'v1'];

function contentTypeOf(req: MatrixRequest): string | undefined {
  const header = req.headers['content-type'];
  return Array.isArray(header) ? header[0] : header;
}

export function mediaUploadRoutes(media: MediaRepository): Route[] {
  return [
    /** # POST /_matrix/media/v3/upload */
    {
      method: 'POST',
      path: '/_matrix/media/v3/upload',
      auth: 'required',
      body: 'raw',
      aliasVersions: LEGACY_VERSIONS,
      handler: async (req) => {
        const contentUri = await media.upload(requesterOf(req).userId, req.rawBody ?? Buffer.alloc(0), contentTypeOf(req), queryString(req.query, 'filename'));
        return { body: { content_uri: contentUri } };
      },
    },
    /** # POST /_matrix/media/v1/create */
    {
      method: 'POST',
      path: '/_matrix/media/v1/create',
      auth: 'required',
      body: 'none',
      handler: async (req) => {
        const { contentUri, unusedExpiresAt } = await media.create(requesterOf(req).userId);
        return { body: { content_uri: contentUri, unused_expires_at: unusedExpiresAt } };
      },
    },
    /** # PUT /_matrix/media/v3/upload/{serverName}/{mediaId} */
    {
      method: 'PUT',
      path: '/_matrix/media/v3/upload/{serverName}/{mediaId}',
      auth: 'required',
      body: 'raw',
      aliasVersions: LEGACY_VERSIONS,
      handler: async (req) => {
        const { serverName, mediaId } = req.params as { serverName: string; mediaId: string };
        await media.uploadToCreated(requesterOf(req).userId, serverName, mediaId, req.rawBody ?? Buffer.alloc(0), contentTypeOf(req), queryString(req.query, 'filename'));
        return { body: {} };
      },
    },
  ];
}
