// Account registration (client-server-api/_index.md, "Account registration"):
// user accounts through user-interactive auth, guest accounts, username
// availability and registration token validity.
import type { JsonObject } from '../../core/types.js';
import { forbidden, missingParam } from '../../core/errors.js';
import { MatrixError } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { normaliseRequestedLocalpart, userIdFor, userInUse } from './common.js';
import { hashPassword } from './passwords.js';
import type { NewSession, SessionService } from './sessions.js';
import type { UserInteractiveAuth } from './uia.js';
import { STAGE_DUMMY, STAGE_REGISTRATION_TOKEN } from './uia.js';

export interface RegistrationRequest {
  kind: 'user' | 'guest';
  username?: string;
  password?: string;
  deviceId?: string;
  initialDeviceDisplayName?: string;
  inhibitLogin: boolean;
  auth: JsonObject | undefined;
}

export type RegistrationResult = { userId: string } & Partial<Omit<NewSession, 'userId'>>;

export interface NewAccount {
  /** A chosen localpart, already normalised; a numeric one is generated when absent. */
  localpart?: string;
  passwordHash: string | null;
  isAdmin?: boolean;
  isGuest?: boolean;
}

const REGISTRATION_DISABLED = 'Registration has been disabled on this server';

export class RegistrationService {
  constructor(
    private readonly ctx: AccountsContext,
    private readonly uia: UserInteractiveAuth,
    private readonly sessions: SessionService,
  ) {}

  /**
   * The UIA flows registration offers, from homeserver.yaml: a registration
   * token when registration_requires_token, else the dummy stage when
   * enable_registration_without_verification. Email and phone verification
   * are not supported, so with neither there is no way in.
   */
  registrationFlows(): string[][] {
    const { config } = this.ctx;
    if (!config.enableRegistration) throw forbidden(REGISTRATION_DISABLED);
    if (config.registrationRequiresToken) return [[STAGE_REGISTRATION_TOKEN]];
    if (config.enableRegistrationWithoutVerification) return [[STAGE_DUMMY]];
    throw forbidden(
      'Registration needs email or phone verification, which this server does not offer; ' +
        'the administrator can set enable_registration_without_verification or registration_requires_token',
    );
  }

  async register(req: RegistrationRequest): Promise<RegistrationResult> {
    if (req.kind === 'guest') return this.registerGuest(req);
    const flows = this.registrationFlows();
    // Checked before UIA so the client learns about a bad or taken name before anything else.
    const localpart = req.username === undefined ? undefined : await this.checkUsernameAvailable(req.username);
    const authorised = await this.uia.authenticate({ operation: 'register', flows, auth: req.auth });
    if (req.password === undefined) throw missingParam("Missing required field 'password'");
    const passwordHash = await hashPassword(req.password);
    const userId = await this.ctx.stores.db.transaction(async () => {
      const created = await this.createAccount({ localpart, passwordHash });
      await this.uia.finish(authorised);
      return created;
    });
    if (req.inhibitLogin) return { userId };
    return this.sessions.createSession(userId, req.deviceId, req.initialDeviceDisplayName);
  }

  /** GET /register/available: the normalised localpart, or M_INVALID_USERNAME / M_USER_IN_USE. */
  async checkUsernameAvailable(username: string): Promise<string> {
    if (!this.ctx.config.enableRegistration) throw forbidden(REGISTRATION_DISABLED);
    const localpart = normaliseRequestedLocalpart(username, this.ctx.config.serverName);
    const userId = userIdFor(localpart, this.ctx.config.serverName);
    if (await this.ctx.stores.users.exists(userId)) throw userInUse(userId);
    return localpart;
  }

  /** GET /register/m.login.registration_token/validity. */
  async isRegistrationTokenValid(token: string): Promise<boolean> {
    if (!this.ctx.config.enableRegistration) throw forbidden('This server does not allow registration, so no token is valid');
    return this.ctx.stores.registrationTokens.isUsable(token, this.ctx.now());
  }

  /**
   * Creates the user and its profile (displayname = localpart, as Synapse
   * does). Throws M_USER_IN_USE when the chosen name is taken; generated names
   * skip any number already in use.
   */
  async createAccount(account: NewAccount): Promise<string> {
    const { users, profiles } = this.ctx.stores;
    const serverName = this.ctx.config.serverName;
    return this.ctx.stores.db.transaction(async () => {
      const now = this.ctx.now();
      const newUser = { passwordHash: account.passwordHash, isAdmin: account.isAdmin, isGuest: account.isGuest, createdTs: now };
      let localpart = account.localpart;
      if (localpart !== undefined) {
        if (!(await users.create({ ...newUser, userId: userIdFor(localpart, serverName) }))) {
          throw userInUse(userIdFor(localpart, serverName));
        }
      } else {
        do localpart = String(await users.nextGeneratedLocalpart());
        while (!(await users.create({ ...newUser, userId: userIdFor(localpart, serverName) })));
      }
      const userId = userIdFor(localpart, serverName);
      await profiles.create(userId, { displayname: localpart, avatarUrl: null });
      return userId;
    });
  }

  /** Guests get a numeric ID, no password and no UIA (spec: "Guest access"). */
  private async registerGuest(req: RegistrationRequest): Promise<RegistrationResult> {
    if (!this.ctx.config.allowGuestAccess) {
      throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is disabled on this server');
    }
    const userId = await this.createAccount({ passwordHash: null, isGuest: true });
    return this.sessions.createSession(userId, req.deviceId, req.initialDeviceDisplayName);
  }
}
