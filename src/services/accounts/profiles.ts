// Profiles (client-server-api/_index.md, "Profiles"): a local user's
// displayname and avatar_url, and since Matrix 1.16 `m.tz` and custom fields
// (profile.yaml), readable by anyone, writable only by the user.
import { isCommonNamespacedIdentifier } from '../../core/identifiers.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { badJson, forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { Profile } from '../../storage/accounts/index.js';
import type { AccountAdministration } from './administration.js';
import type { AccountsContext } from './common.js';

/** Synapse's limits; longer values are refused rather than truncated. */
export const MAX_DISPLAYNAME_LENGTH = 256;
export const MAX_AVATAR_URL_LENGTH = 1000;

/** profile.yaml: "the total profile MUST be under 64 KiB", and keys at most 255 bytes. */
export const MAX_PROFILE_BYTES = 64 * 1024;
export const MAX_PROFILE_KEY_BYTES = 255;

const SUSPENDED_MESSAGE = 'You cannot change your profile while your account is suspended';

/** mxc://<server-name>/<media-id> (client-server-api/_index.md, "Matrix Content (mxc://) URIs"). */
const MXC_URI = /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/;

export class ProfileService {
  constructor(
    private readonly ctx: AccountsContext,
    private readonly administration: AccountAdministration,
  ) {}

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

  /** GET /profile/{userId}: displayname and avatar_url when set, then the custom fields. */
  async getAll(userId: string): Promise<JsonObject> {
    const profile = await this.get(userId);
    const body: JsonObject = {};
    if (profile.displayname !== null) body.displayname = profile.displayname;
    if (profile.avatarUrl !== null) body.avatar_url = profile.avatarUrl;
    for (const [name, value] of await this.ctx.stores.profiles.fields(userId)) body[name] = value;
    return body;
  }

  /** GET /profile/{userId}/{keyName}: 404 when the user does not exist or has no such field. */
  async getField(userId: string, key: string): Promise<JsonValue> {
    requireProfileKey(key);
    const profile = await this.get(userId);
    const value = key === 'displayname' ? profile.displayname : key === 'avatar_url' ? profile.avatarUrl : await this.ctx.stores.profiles.field(userId, key);
    if (value === undefined || (isBuiltIn(key) && value === null)) throw notFound(`${userId} has no profile field '${key}'`);
    return value;
  }

  /**
   * PUT /profile/{userId}/{keyName}. displayname and avatar_url keep their
   * own rules; m.tz must be a time zone; a custom field takes any JSON,
   * null included (stored, as profile.yaml asks, not taken as a deletion).
   */
  async setField(actorUserId: string, userId: string, key: string, value: JsonValue): Promise<void> {
    requireProfileKey(key);
    this.requireSelf(actorUserId, userId, 'profile');
    await this.administration.requireNotSuspended(actorUserId, SUSPENDED_MESSAGE);
    if (key === 'displayname' || key === 'avatar_url') {
      if (value !== null && typeof value !== 'string') throw badJson(`'${key}' must be a string`);
      await this.requireFits(userId, key, value);
      if (key === 'displayname') await this.setDisplayname(actorUserId, userId, value);
      else await this.setAvatarUrl(actorUserId, userId, value);
      return;
    }
    if (key === 'm.tz') requireTimeZone(value);
    await this.ctx.stores.db.transaction(async () => {
      await this.ctx.stores.profiles.lockForUpdate(userId);
      await this.requireFits(userId, key, value);
      await this.ctx.stores.profiles.setField(userId, key, value);
    });
  }

  /** DELETE /profile/{userId}/{keyName}: succeeds whether or not the field was set. */
  async deleteField(actorUserId: string, userId: string, key: string): Promise<void> {
    requireProfileKey(key);
    this.requireSelf(actorUserId, userId, 'profile');
    await this.administration.requireNotSuspended(actorUserId, SUSPENDED_MESSAGE);
    if (key === 'displayname') await this.setDisplayname(actorUserId, userId, null);
    else if (key === 'avatar_url') await this.setAvatarUrl(actorUserId, userId, null);
    else await this.ctx.stores.profiles.deleteField(userId, key);
  }

  /** 400 M_PROFILE_TOO_LARGE when the profile, with `key` set to `value`, would exceed 64 KiB as JSON. */
  private async requireFits(userId: string, key: string, value: JsonValue): Promise<void> {
    const profile = { ...(await this.getAll(userId)), [key]: value };
    const size = Buffer.byteLength(JSON.stringify(profile));
    if (size > MAX_PROFILE_BYTES) {
      throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', `The profile would be ${size} bytes of JSON with this value; the limit is ${MAX_PROFILE_BYTES}`);
    }
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

function isBuiltIn(key: string): boolean {
  return key === 'displayname' || key === 'avatar_url';
}

/**
 * profile.yaml's keyName: displayname, avatar_url, m.tz or a custom key in
 * the Common Namespaced Identifier Grammar, at most 255 bytes.
 */
function requireProfileKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_PROFILE_KEY_BYTES) throw new MatrixError(400, 'M_KEY_TOO_LARGE', `Profile keys are at most ${MAX_PROFILE_KEY_BYTES} bytes`);
  if (!isCommonNamespacedIdentifier(key)) {
    throw invalidParam(`'${key}' is not a profile key: use displayname, avatar_url, m.tz or a namespaced name such as com.example.field (a-z, 0-9, '.', '_', '-')`);
  }
}

/** m.tz holds an IANA time zone name; one the runtime's time zone data does not know is refused. */
function requireTimeZone(value: JsonValue): void {
  if (typeof value !== 'string') throw badJson("'m.tz' must be a string naming an IANA time zone, such as Europe/London");
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw invalidParam(`'${value}' is not an IANA time zone name, such as Europe/London`);
  }
}
