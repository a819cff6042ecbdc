// Synapse-compatible shared-secret registration (Synapse's admin API
// /_synapse/admin/v1/register, used by register_new_matrix_user): the caller
// proves knowledge of registration_shared_secret with an HMAC over a
// single-use nonce and the account details.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { forbidden, invalidParam } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { normaliseRequestedLocalpart, unknownError } from './common.js';
import { hashPassword, MAX_PASSWORD_LENGTH } from './passwords.js';
import type { RegistrationService } from './registration.js';
import type { NewSession, SessionService } from './sessions.js';

/** Synapse forgets nonces after a minute. */
export const NONCE_LIFETIME_MS = 60_000;
/** Synapse's limit on username and password in this API. */
const MAX_FIELD_LENGTH = 512;

export interface SharedSecretRegistration {
  nonce: string;
  username: string;
  password: string;
  admin: boolean;
  mac: string;
  displayname?: string;
}

/** hex HMAC-SHA1(secret, nonce \0 username \0 password \0 admin|notadmin), exactly as Synapse computes it. */
export function sharedSecretMac(secret: string, nonce: string, username: string, password: string, admin: boolean): string {
  return createHmac('sha1', secret)
    .update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`, 'utf8')
    .digest('hex');
}

export class SharedSecretRegistrationService {
  /** nonce → expiry time. Process-local, like Synapse's; a nonce outlives no restart. */
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly ctx: AccountsContext,
    private readonly registration: RegistrationService,
    private readonly sessions: SessionService,
  ) {}

  newNonce(): string {
    this.requireSecret();
    this.forgetExpiredNonces();
    const nonce = randomBytes(32).toString('hex');
    this.nonces.set(nonce, this.ctx.now() + NONCE_LIFETIME_MS);
    return nonce;
  }

  async register(req: SharedSecretRegistration): Promise<NewSession> {
    const secret = this.requireSecret();
    this.forgetExpiredNonces();
    // Spent even when the MAC turns out wrong: each nonce gets one guess.
    if (!this.nonces.delete(req.nonce)) throw unknownError(400, 'Unrecognised or expired nonce; fetch a new one with GET first');
    if (req.username.length > MAX_FIELD_LENGTH || req.username.includes('\0')) throw invalidParam('Invalid username');
    if (req.password.length > MAX_PASSWORD_LENGTH || req.password.includes('\0')) throw invalidParam('Invalid password');
    const expected = Buffer.from(sharedSecretMac(secret, req.nonce, req.username, req.password, req.admin), 'utf8');
    const given = Buffer.from(req.mac, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw forbidden('HMAC incorrect');

    const localpart = normaliseRequestedLocalpart(req.username, this.ctx.config.serverName);
    const userId = await this.registration.createAccount({
      localpart,
      passwordHash: await hashPassword(req.password),
      isAdmin: req.admin,
    });
    if (req.displayname !== undefined) await this.ctx.stores.profiles.setDisplayname(userId, req.displayname);
    return this.sessions.createSession(userId);
  }

  private requireSecret(): string {
    const secret = this.ctx.config.registrationSharedSecret;
    if (!secret) {
      throw unknownError(400, 'Shared secret registration is not enabled: set registration_shared_secret in homeserver.yaml');
    }
    return secret;
  }

  private forgetExpiredNonces(): void {
    const now = this.ctx.now();
    for (const [nonce, expiry] of this.nonces) if (expiry <= now) this.nonces.delete(nonce);
  }
}
