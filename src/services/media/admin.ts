// Synapse's media admin API (Synapse docs, admin_api/media_admin_api.md and
// user_admin_api.md "List media uploaded by a user"): list a user's media,
// quarantine and release media (quarantined media is served to nobody),
// and delete local media with its files. Only server admins reach this.
import { parseServerName, parseUserId, type ContentUri } from '../../core/identifiers.js';
import { invalidParam, notFound } from '../../core/errors.js';
import { MediaStore, type LocalMedia, type MediaListPage } from '../../storage/media.js';
import type { Database } from '../../storage/database.js';
import { isSafeMediaId, MediaFiles } from './files.js';

export interface MediaAdministrationDeps {
  db: Database;
  serverName: string;
  mediaStorePath: string;
  /** Whether the local account exists (deactivated ones included). */
  userExists: (userId: string) => Promise<boolean>;
  /** The media a room's events show (404 for an unknown room). */
  mediaInRoom: (roomId: string) => Promise<ContentUri[]>;
}

export interface UserMediaPage {
  media: LocalMedia[];
  total: number;
  nextFrom?: number;
}

export class MediaAdministration {
  private readonly store: MediaStore;
  private readonly files: MediaFiles;

  constructor(private readonly deps: MediaAdministrationDeps) {
    this.store = new MediaStore(deps.db);
    this.files = new MediaFiles(deps.mediaStorePath);
  }

  /** GET /_synapse/admin/v1/users/{userId}/media. */
  async listUserMedia(userId: string, page: MediaListPage): Promise<UserMediaPage> {
    await this.requireLocalUser(userId);
    const { media, total } = await this.store.listByUser(userId, page);
    const nextFrom = page.from + media.length;
    return nextFrom < total && media.length > 0 ? { media, total, nextFrom } : { media, total };
  }

  /**
   * POST /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId} (with
   * the admin's ID) and …/unquarantine/… (null). Other servers' media is
   * quarantined in our cache of it.
   */
  async setQuarantined(serverName: string, mediaId: string, quarantinedBy: string | null): Promise<void> {
    this.requireMediaId(serverName, mediaId);
    const changed =
      serverName === this.deps.serverName
        ? await this.store.setQuarantined(mediaId, quarantinedBy)
        : await this.store.setRemoteQuarantined(serverName, mediaId, quarantinedBy);
    if (!changed) throw notFound(`Unknown media mxc://${serverName}/${mediaId}`);
  }

  /** DELETE /_synapse/admin/v1/media/{serverName}/{mediaId}: the row, its thumbnails, and their files. */
  async deleteLocalMedia(serverName: string, mediaId: string): Promise<string[]> {
    this.requireMediaId(serverName, mediaId);
    if (serverName !== this.deps.serverName) throw invalidParam('Can only delete local media');
    const media = await this.store.get(mediaId);
    if (!media) throw notFound(`Unknown media mxc://${serverName}/${mediaId}`);
    const thumbnails = await this.store.thumbnails(mediaId);
    // Rows first: once they are gone nothing serves the files, so a crash in between leaves only unreferenced files.
    await this.store.deleteLocal(mediaId);
    await this.files.remove(this.files.contentPath(mediaId));
    for (const t of thumbnails) await this.files.remove(this.files.thumbnailPath(mediaId, t.width, t.height, t.contentType, t.method));
    return [mediaId];
  }

  /** GET /_synapse/admin/v1/room/{roomId}/media: the room's media, ours and other servers'. */
  async roomMedia(roomId: string): Promise<{ local: string[]; remote: string[] }> {
    const local: string[] = [];
    const remote: string[] = [];
    for (const uri of await this.deps.mediaInRoom(roomId)) {
      (uri.serverName === this.deps.serverName ? local : remote).push(`mxc://${uri.serverName}/${uri.mediaId}`);
    }
    return { local, remote };
  }

  /** POST /_synapse/admin/v1/room/{roomId}/media/quarantine: every piece of media the room shows that is known here. */
  async quarantineRoomMedia(roomId: string, quarantinedBy: string): Promise<number> {
    let count = 0;
    for (const uri of await this.deps.mediaInRoom(roomId)) {
      const changed =
        uri.serverName === this.deps.serverName
          ? await this.store.setQuarantined(uri.mediaId, quarantinedBy)
          : await this.store.setRemoteQuarantined(uri.serverName, uri.mediaId, quarantinedBy);
      if (changed) count += 1;
    }
    return count;
  }

  /** POST /_synapse/admin/v1/user/{userId}/media/quarantine. */
  async quarantineUserMedia(userId: string, quarantinedBy: string): Promise<number> {
    await this.requireLocalUser(userId);
    return this.store.quarantineAllOf(userId, quarantinedBy);
  }

  /** DELETE /_synapse/admin/v1/users/{userId}/media: all of the user's media, with its files. */
  async deleteUserMedia(userId: string): Promise<string[]> {
    await this.requireLocalUser(userId);
    const deleted: string[] = [];
    for (const mediaId of await this.store.mediaIdsOf(userId)) deleted.push(...(await this.deleteLocalMedia(this.deps.serverName, mediaId)));
    return deleted;
  }

  private async requireLocalUser(userId: string): Promise<void> {
    const parsed = parseUserId(userId);
    if (!parsed) throw invalidParam(`'${userId}' is not a valid user ID`);
    if (parsed.serverName !== this.deps.serverName) throw invalidParam('Can only look up local users');
    if (!(await this.deps.userExists(userId))) throw notFound('Unknown user');
  }

  private requireMediaId(serverName: string, mediaId: string): void {
    if (parseServerName(serverName) === null) throw invalidParam(`'${serverName}' is not a valid server name`);
    if (!isSafeMediaId(mediaId)) throw invalidParam(`'${mediaId}' is not a valid media ID`);
  }
}
