// What the accounts services share: the config they read, the clock, the
// Matrix errors they raise, and user ID rules for accounts made here.
import { isValidLocalpart, serverNameOfUserId } from '../../core/identifiers.js';
import type { HomeserverConfig } from '../../config/types.js';
import { MatrixError } from '../../core/errors.js';
import type { AccountStores } from '../../storage/accounts/index.js';

export type AccountsConfig = Pick<
  HomeserverConfig,
  | 'serverName'
  | 'enableRegistration'
  | 'registrationRequiresToken'
  | 'enableRegistrationWithoutVerification'
  | 'registrationSharedSecret'
  | 'allowGuestAccess'
  | 'defaultRoomVersion'
  | 'tokenLifetimes'
  | 'loginViaExistingSession'
>;

export type Clock = () => number;

export interface AccountsContext {
  stores: AccountStores;
  config: AccountsConfig;
  now: Clock;
  events: AccountEvents;
}

/**
 * Changes other areas must follow: rooms update member events when a profile
 * changes and make a deactivated user leave; end-to-end keys drop a deleted
 * device's keys and announce device list changes. Listeners run after the
 * change is committed.
 */
export interface AccountEventMap {
  profileChanged: { userId: string; displayname: string | null; avatarUrl: string | null };
  devicesDeleted: { userId: string; deviceIds: string[] };
  /** A device was added (at login or registration) or renamed: a device list change, here and for other servers. */
  devicesChanged: { userId: string; deviceId: string };
  userDeactivated: { userId: string };
}

type Listener<T> = (event: T) => Promise<void> | void;

export class AccountEvents {
  private readonly listeners: { [K in keyof AccountEventMap]: Listener<AccountEventMap[K]>[] } = {
    profileChanged: [],
    devicesDeleted: [],
    devicesChanged: [],
    userDeactivated: [],
  };

  on<K extends keyof AccountEventMap>(name: K, listener: Listener<AccountEventMap[K]>): void {
    this.listeners[name].push(listener);
  }

  async emit<K extends keyof AccountEventMap>(name: K, event: AccountEventMap[K]): Promise<void> {
    for (const listener of this.listeners[name]) await listener(event);
  }
}

// Error codes named by the spec for accounts (client-server-api/_index.md, "Other error codes").
export const userInUse = (userId: string): MatrixError => new MatrixError(400, 'M_USER_IN_USE', `The user ID ${userId} is already taken`);
export const invalidUsername = (message: string): MatrixError => new MatrixError(400, 'M_INVALID_USERNAME', message);
export const userDeactivated = (): MatrixError => new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
/** client-server-api "Account locking": the session survives the lock (soft_logout), so it works again once lifted. */
export const userLocked = (): MatrixError => new MatrixError(401, 'M_USER_LOCKED', 'This account has been locked by a server administrator', { soft_logout: true });
export const unknownError = (status: number, message: string): MatrixError => new MatrixError(status, 'M_UNKNOWN', message);

/** Identifiers are at most 255 bytes including sigil and domain (appendices.md, "User Identifiers"). */
const MAX_USER_ID_BYTES = 255;

export function userIdFor(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/**
 * The localpart a requested username becomes. Like Synapse, registration
 * folds case (users type "Alice" and get @alice), then enforces the current
 * grammar: a–z 0–9 . _ = - / +.
 */
export function normaliseRequestedLocalpart(username: string, serverName: string): string {
  const localpart = username.toLowerCase();
  if (!isValidLocalpart(localpart)) {
    throw invalidUsername("User ID can only contain the characters a-z, 0-9, '.', '_', '=', '-', '/' and '+'");
  }
  if (Buffer.byteLength(userIdFor(localpart, serverName)) > MAX_USER_ID_BYTES) {
    throw invalidUsername(`User ID is too long: @${localpart}:${serverName} is over ${MAX_USER_ID_BYTES} bytes`);
  }
  return localpart;
}

/**
 * The local user an `m.id.user` identifier names (a localpart or a full user
 * ID), or undefined when it names a user of another server.
 */
export function resolveLocalUser(user: string, serverName: string): string | undefined {
  // The sigil tells a full user ID from a bare localpart.
  if (!user.startsWith('@')) return userIdFor(user.toLowerCase(), serverName);
  return serverNameOfUserId(user) === serverName ? user : undefined;
}
