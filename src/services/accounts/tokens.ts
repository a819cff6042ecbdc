// Secrets and identifiers the accounts area hands out.
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** 32 random bytes: unguessable, and recognisable in leaked logs by its prefix. */
export function generateAccessToken(): string {
  return `axo_${randomBytes(32).toString('base64url')}`;
}

/** Refresh tokens look like access tokens but say what they are. */
export function generateRefreshToken(): string {
  return `axr_${randomBytes(32).toString('base64url')}`;
}

/** m.login.token tokens: single use, so as unguessable as the access token they turn into. */
export function generateLoginToken(): string {
  return `axl_${randomBytes(32).toString('base64url')}`;
}

/** Tokens are stored and looked up only as this hash. */
export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const DEVICE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ten upper-case letters, the shape Synapse gives generated device IDs. */
export function generateDeviceId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += DEVICE_ID_ALPHABET[randomInt(DEVICE_ID_ALPHABET.length)];
  return id;
}

export function generateSessionId(): string {
  return randomBytes(18).toString('base64url');
}
