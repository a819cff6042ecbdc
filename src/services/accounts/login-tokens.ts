// Logging in a new device from an existing session (client-server-api
// "Login", m.login.token; data/api/client-server/login_token.yaml): a
// signed-in user asks for a single-use, short-lived token, and the new
// device logs in with it. Synapse's login_via_existing_session decides
// whether it is offered.
import { LOGIN_VIA_EXISTING_SESSION_DEFAULTS } from '../../config/load.js';
import type { LoginViaExistingSessionConfig } from '../../config/types.js';
import type { JsonObject } from '../../core/types.js';
import { forbidden } from '../../core/errors.js';
import type { Actor } from './account.js';
import type { AccountsContext } from './common.js';
import { userDeactivated } from './common.js';
import type { NewSession, SessionOptions, SessionService } from './sessions.js';
import { generateLoginToken, hashAccessToken } from './tokens.js';
import type { UserInteractiveAuth } from './uia.js';
import { STAGE_PASSWORD } from './uia.js';

export interface IssuedLoginToken {
  loginToken: string;
  expiresInMs: number;
}

export class LoginTokenService {
  constructor(
    private readonly ctx: AccountsContext,
    private readonly uia: UserInteractiveAuth,
    private readonly sessions: SessionService,
  ) {}

  get config(): LoginViaExistingSessionConfig {
    return this.ctx.config.loginViaExistingSession ?? LOGIN_VIA_EXISTING_SESSION_DEFAULTS;
  }

  /**
   * POST /login/get_token. The spec requires asking for consent every time
   * (no reuse of a recent UIA), so each token needs its own UIA session
   * unless require_ui_auth is off. `throttle` runs after UIA, as in Synapse,
   * so that a failed password prompt does not use up the allowance.
   */
  async issue(actor: Actor, auth: JsonObject | undefined, throttle?: (userId: string) => void): Promise<IssuedLoginToken> {
    const { requireUiAuth, tokenTimeoutMs } = this.config;
    const authorised = requireUiAuth
      ? await this.uia.authenticate({ operation: `login_token:${actor.userId}`, flows: [[STAGE_PASSWORD]], auth, userId: actor.userId })
      : undefined;
    throttle?.(actor.userId);
    const loginToken = generateLoginToken();
    const now = this.ctx.now();
    await this.ctx.stores.db.transaction(async () => {
      await this.ctx.stores.loginTokens.insert(hashAccessToken(loginToken), actor.userId, now + tokenTimeoutMs, now);
      if (authorised) await this.uia.finish(authorised);
    });
    return { loginToken, expiresInMs: tokenTimeoutMs };
  }

  /** POST /login with m.login.token: the token is spent whether or not the login then succeeds. */
  async login(token: string, options: SessionOptions): Promise<NewSession> {
    const userId = await this.ctx.stores.loginTokens.consume(hashAccessToken(token), this.ctx.now());
    if (userId === undefined) throw forbidden('Invalid login token: it is unknown, expired or already used');
    if ((await this.ctx.stores.users.get(userId))?.deactivated !== false) throw userDeactivated();
    return this.sessions.createSession(userId, options);
  }
}
