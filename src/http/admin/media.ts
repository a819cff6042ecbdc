// Synapse's media admin API (Synapse docs, admin_api/media_admin_api.md) in
// its shapes. Server admins only.
import type { JsonObject } from '../../core/types.js';
import type { MediaAdministration } from '../../services/media/admin.js';
import { MEDIA_ORDER_COLUMNS, type LocalMedia, type MediaOrder } from '../../storage/media.js';
import type { Route } from '../types.js';
import { adminRoute } from './admin-route.js';
import { listPaging } from './listing.js';

/** Synapse's default page size for a user's media. */
const DEFAULT_LIMIT = 100;

export function mediaAdminRoutes(media: MediaAdministration): Route[] {
  return [
    /** # GET /_synapse/admin/v1/users/{userId}/media */
    adminRoute('GET', '/_synapse/admin/v1/users/{userId}/media', async (req) => {
      const page = await media.listUserMedia(req.params.userId!, listPaging<MediaOrder>(req.query, MEDIA_ORDER_COLUMNS, 'created_ts', DEFAULT_LIMIT));
      const body: JsonObject = { media: page.media.map(mediaJson), total: page.total };
      if (page.nextFrom !== undefined) body.next_token = page.nextFrom;
      return { body };
    }),
    /** # POST /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId} */
    adminRoute('POST', '/_synapse/admin/v1/media/quarantine/{serverName}/{mediaId}', async (req, admin) => {
      await media.setQuarantined(req.params.serverName!, req.params.mediaId!, admin.userId);
      return { body: {} };
    }),
    /** # POST /_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId} */
    adminRoute('POST', '/_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId}', async (req) => {
      await media.setQuarantined(req.params.serverName!, req.params.mediaId!, null);
      return { body: {} };
    }),
    /** # DELETE /_synapse/admin/v1/users/{userId}/media */
    adminRoute('DELETE', '/_synapse/admin/v1/users/{userId}/media', async (req) => {
      const deleted = await media.deleteUserMedia(req.params.userId!);
      return { body: { deleted_media: deleted, total: deleted.length } };
    }),
    /** # GET /_synapse/admin/v1/room/{roomId}/media */
    adminRoute('GET', '/_synapse/admin/v1/room/{roomId}/media', async (req) => ({ body: await media.roomMedia(req.params.roomId!) })),
    /** # POST /_synapse/admin/v1/room/{roomId}/media/quarantine */
    adminRoute('POST', '/_synapse/admin/v1/room/{roomId}/media/quarantine', async (req, admin) => ({
      body: { num_quarantined: await media.quarantineRoomMedia(req.params.roomId!, admin.userId) },
    })),
    /** # POST /_synapse/admin/v1/user/{userId}/media/quarantine */
    adminRoute('POST', '/_synapse/admin/v1/user/{userId}/media/quarantine', async (req, admin) => ({
      body: { num_quarantined: await media.quarantineUserMedia(req.params.userId!, admin.userId) },
    })),
    /** # DELETE /_synapse/admin/v1/media/{serverName}/{mediaId} */
    adminRoute('DELETE', '/_synapse/admin/v1/media/{serverName}/{mediaId}', async (req) => {
      const deleted = await media.deleteLocalMedia(req.params.serverName!, req.params.mediaId!);
      return { body: { deleted_media: deleted, total: deleted.length } };
    }),
  ];
}

/**
 * One upload in Synapse's shape. Axon records neither when media was last
 * read nor protection from quarantine, so those fields say so.
 */
function mediaJson(m: LocalMedia): JsonObject {
  return {
    media_id: m.mediaId,
    media_type: m.contentType,
    media_length: m.size,
    upload_name: m.uploadName,
    created_ts: m.createdTs,
    last_access_ts: null,
    quarantined_by: m.quarantinedBy,
    safe_from_quarantine: false,
  };
}
