// OpenID tokens (client-server-api/_index.md, "OpenID"): a user asks for a
// short-lived token to prove their identity to a third party (Element's
// integration manager and widgets), which checks it with this server through
// GET /_matrix/federation/v1/openid/userinfo.
import { createHash, randomBytes } from 'node:crypto';
import type { OpenIdTokenStore } from '../../storage/push/index.js';

/** Synapse's lifetime for these tokens: one hour. */
export const OPENID_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export interface OpenIdToken {
  access_token: string;
  token_type: 'Bearer';
  matrix_server_name: string;
  /** Seconds. */
  expires_in: number;
}

export class OpenIdService {
  constructor(
    private readonly store: OpenIdTokenStore,
    private readonly serverName: string,
    private readonly clock: () => number,
  ) {}

  async issue(userId: string): Promise<OpenIdToken> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    // Expired tokens are useless; clearing them here keeps the table small without a timer.
    await this.store.deleteExpired(now);
    await this.store.insert(hashToken(token), userId, now + OPENID_TOKEN_LIFETIME_MS);
    return {
      access_token: token,
      token_type: 'Bearer',
      matrix_server_name: this.serverName,
      expires_in: OPENID_TOKEN_LIFETIME_MS / 1000,
    };
  }

  /** The user a token was issued to, if it is known and unexpired. */
  userFor(token: string): Promise<string | undefined> {
    return this.store.findUser(hashToken(token), this.clock());
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
