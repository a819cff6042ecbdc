// Registration tokens for the admin API, with Synapse's validation rules
// (Synapse docs: "Registration Tokens" admin API).
import { randomInt } from 'node:crypto';
import { invalidParam, notFound } from '../../core/errors.js';
import type { RegistrationToken } from '../../storage/accounts/index.js';
import type { AccountsContext } from './common.js';

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
export const MAX_TOKEN_LENGTH = 64;
const DEFAULT_GENERATED_LENGTH = 16;

export interface NewRegistrationToken {
  /** Chosen token; when absent one of `length` characters is generated. */
  token?: string;
  length?: number;
  /** null or absent: unlimited. */
  usesAllowed?: number | null;
  /** Milliseconds since the epoch; null or absent: never expires. */
  expiryTime?: number | null;
}

export class RegistrationTokenService {
  constructor(private readonly ctx: AccountsContext) {}

  list(valid?: boolean): Promise<RegistrationToken[]> {
    return this.ctx.stores.registrationTokens.list({ valid, now: this.ctx.now() });
  }

  async get(token: string): Promise<RegistrationToken> {
    const found = await this.ctx.stores.registrationTokens.get(token);
    if (!found) throw notFound(`No registration token '${token}'`);
    return found;
  }

  async create(req: NewRegistrationToken): Promise<RegistrationToken> {
    this.checkLimits(req);
    const store = this.ctx.stores.registrationTokens;
    if (req.token !== undefined) {
      if (req.length !== undefined) throw invalidParam("Give either 'token' or 'length', not both");
      if (!TOKEN_PATTERN.test(req.token)) {
        throw invalidParam(`token must be 1-${MAX_TOKEN_LENGTH} characters from A-Z, a-z, 0-9, '.', '_', '~' and '-'`);
      }
      if (!(await store.create(req.token, req.usesAllowed ?? null, req.expiryTime ?? null))) {
        throw invalidParam(`Token already exists: ${req.token}`);
      }
      return this.get(req.token);
    }
    const length = req.length ?? DEFAULT_GENERATED_LENGTH;
    if (!Number.isInteger(length) || length < 1 || length > MAX_TOKEN_LENGTH) {
      throw invalidParam(`length must be an integer from 1 to ${MAX_TOKEN_LENGTH}`);
    }
    // A generated token can collide with an existing one; draw again.
    for (;;) {
      const token = randomToken(length);
      if (await store.create(token, req.usesAllowed ?? null, req.expiryTime ?? null)) return this.get(token);
    }
  }

  async update(token: string, changes: { usesAllowed?: number | null; expiryTime?: number | null }): Promise<RegistrationToken> {
    this.checkLimits(changes);
    if (!(await this.ctx.stores.registrationTokens.update(token, changes))) throw notFound(`No registration token '${token}'`);
    return this.get(token);
  }

  async delete(token: string): Promise<void> {
    if (!(await this.ctx.stores.registrationTokens.delete(token))) throw notFound(`No registration token '${token}'`);
  }

  private checkLimits(req: { usesAllowed?: number | null; expiryTime?: number | null }): void {
    if (req.usesAllowed != null && (!Number.isInteger(req.usesAllowed) || req.usesAllowed < 0)) {
      throw invalidParam('uses_allowed must be a non-negative integer or null');
    }
    if (req.expiryTime != null && (!Number.isInteger(req.expiryTime) || req.expiryTime < this.ctx.now())) {
      throw invalidParam('expiry_time must be an integer number of milliseconds since the epoch, not in the past, or null');
    }
  }
}

function randomToken(length: number): string {
  let token = '';
  for (let i = 0; i < length; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return token;
}
