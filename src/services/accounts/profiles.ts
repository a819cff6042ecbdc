// Profiles (client-server-api/_index.md, "Profiles"): a local user's
// displayname and avatar_url, readable by anyone, writable only by the user.
import { forbidden, invalidParam, notFound } from '../../core/errors.js';
import type { Profile } from '../../storage/accounts/index.js';
import type { AccountsContext } from './common.js';

/** Synapse's limits; longer values are refused rather than truncated. */
export const MAX_DISPLAYNAME_LENGTH = 256;
export const MAX_AVATAR_URL_LENGTH = 1000;

/** mxc://<server-name>/<media-id> (client-server-api/_index.md, "Matrix Content (mxc://) URIs"). */
const MXC_URI = /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/;

export class ProfileService {
  constructor(private readonly ctx: AccountsContext) {}

  /** The profile of a local user; 404 M_NOT_FOUND for unknown (or remote) users. */
  async get(userId: string): Promise<Profile> {
    const profile = (await this.ctx.stores.users.exists(userId)) ? await this.ctx.stores.profiles.get(userId) : undefined;
    if (!profile) throw notFound(`No profile for ${userId}: the user does not exist on this server`);
    return profile;
  }

  /** An empty or null displayname removes it. */
  async setDisplayname(actorUserId: string, userId: string, displayname: string | null): Promise<void> {
    this.requireSelf(actorUserId, userId, 'display name');
    if (displayname !== null && displayname.length > MAX_DISPLAYNAME_LENGTH) {
      throw invalidParam(`displayname is too long (at most ${MAX_DISPLAYNAME_LENGTH} characters)`);
    }
    await this.ctx.stores.profiles.setDisplayname(userId, displayname === '' ? null : displayname);
    await this.emitChange(userId);
  }

  /** An empty or null avatar_url removes it; anything else must be an mxc:// URI. */
  async setAvatarUrl(actorUserId: string, userId: string, avatarUrl: string | null): Promise<void> {
    this.requireSelf(actorUserId, userId, 'avatar');
    const value = avatarUrl === '' ? null : avatarUrl;
    if (value !== null) {
      if (value.length > MAX_AVATAR_URL_LENGTH) throw invalidParam(`avatar_url is too long (at most ${MAX_AVATAR_URL_LENGTH} characters)`);
      if (!MXC_URI.test(value)) throw invalidParam(`avatar_url must be an mxc:// URI such as mxc://example.org/abc123, not '${value}'`);
    }
    await this.ctx.stores.profiles.setAvatarUrl(userId, value);
    await this.emitChange(userId);
  }

  private requireSelf(actorUserId: string, userId: string, what: string): void {
    if (actorUserId !== userId) throw forbidden(`You cannot change the ${what} of another user`);
  }

  private async emitChange(userId: string): Promise<void> {
    const profile = await this.ctx.stores.profiles.get(userId);
    await this.ctx.events.emit('profileChanged', {
      userId,
      displayname: profile?.displayname ?? null,
      avatarUrl: profile?.avatarUrl ?? null,
    });
  }
}
