// Account registration (client-server-api/_index.md, "Account registration"):
// user accounts through user-interactive auth, guest accounts, username
// availability and registration token validity.
import type { JsonObject } from '../../core/types.js';
import { forbidden, missingParam } from '../../core/errors.js';
import { MatrixError } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { normaliseRequestedLocalpart, unknownError, userIdFor, userInUse } from './common.js';
import { hashPassword } from './passwords.js';
import type { NewSession, SessionService } from './sessions.js';
import type { UserInteractiveAuth } from './uia.js';
import { STAGE_DUMMY, STAGE_REGISTRATION_TOKEN } from './uia.js';

/** What a registration asks for besides its password (data/api/client-server/registration.yaml). */
export interface RegistrationParams {
  username?: string;
  deviceId?: string;
  initialDeviceDisplayName?: string;
  inhibitLogin?: boolean;
  /** The client supports refresh tokens. */
  refreshToken?: boolean;
  /** The access token of the guest account this registration upgrades (modules/guest_access.md). */
  guestAccessToken?: string;
}

export interface RegistrationRequest {
  kind: 'user' | 'guest';
  /**
   * The request's parameters; undefined when it gives none, and then those
   * the UIA session remembers from an earlier request apply (as in Synapse).
   */
  params?: RegistrationParams;
  password?: string;
  auth: JsonObject | undefined;
}

/**
 * What a registration's UIA session remembers between requests: never the
 * password or the guest's access token themselves, only the password's hash
 * and the guest account the token proved.
 */
interface RegistrationMemory {
  params: Omit<RegistrationParams, 'guestAccessToken'>;
  passwordHash?: string;
  guestUserId?: string;
}

/** The new account, logged in unless the registration inhibited it. */
export type RegistrationResult = { userId: string } | NewSession;

export interface NewAccount {
  /** A chosen localpart, already normalised; a numeric one is generated when absent. */
  localpart?: string;
  passwordHash: string | null;
  isAdmin?: boolean;
  isGuest?: boolean;
}

const REGISTRATION_DISABLED = 'Registration has been disabled on this server';

/** The UIA operation of every registration: sessions are not bound to a username, which may come later. */
const REGISTER = 'register';

/** The account a registration creates or upgrades. */
interface RegistrationTarget {
  localpart: string;
  userId: string;
  upgradesGuest: boolean;
}

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

  /**
   * POST /register for a user account, through UIA. The session remembers
   * the first request's parameters and password hash, so the completing
   * request may carry only `auth`; once it has registered an account, a
   * replay of the session logs in to that account again instead of failing.
   */
  async register(req: RegistrationRequest): Promise<RegistrationResult> {
    if (req.kind === 'guest') return this.registerGuest(req.params ?? {});
    const flows = this.registrationFlows();
    const sessionId = typeof req.auth?.session === 'string' ? req.auth.session : undefined;
    const memory = sessionId === undefined ? undefined : await this.uia.memoryOf(sessionId, REGISTER);
    const registeredUserId = memory?.registeredUserId ?? null;
    const remember = await this.requestWithMemory(req, memory?.data as RegistrationMemory | null | undefined, registeredUserId);
    const { params, passwordHash, guestUserId } = remember;
    // Checked before UIA so the client learns about a bad or taken name before anything else.
    const target = params.username === undefined ? undefined : await this.checkRequestedName(params.username, guestUserId, registeredUserId);
    if (guestUserId !== undefined && target === undefined) {
      throw missingParam(`Upgrading a guest account needs 'username': the guest's own localpart, as in ${guestUserId}`);
    }
    const authorised = await this.uia.authenticate({ operation: REGISTER, flows, auth: req.auth, remember: remember as unknown as JsonObject });
    if (registeredUserId !== null) return this.loginAfterRegistration(registeredUserId, params);

    if (passwordHash === undefined) throw missingParam("Missing required field 'password'");
    const userId = await this.ctx.stores.db.transaction(() =>
      this.uia.finishRegistration(authorised, () =>
        target?.upgradesGuest ? this.upgradeGuest(target.userId, passwordHash) : this.createAccount({ localpart: target?.localpart, passwordHash }),
      ),
    );
    return this.loginAfterRegistration(userId, params);
  }

  /**
   * The request as the session will remember it: its own parameters, or
   * (when it gives none) those of an earlier request; its password hashed,
   * or the earlier hash; the guest its guest_access_token proves, or the
   * earlier one. Once the session has registered, no password is hashed.
   */
  private async requestWithMemory(req: RegistrationRequest, earlier: RegistrationMemory | null | undefined, registeredUserId: string | null): Promise<RegistrationMemory> {
    const given: RegistrationParams = req.params ?? earlier?.params ?? {};
    const { guestAccessToken, ...params } = given;
    const guestUserId = guestAccessToken !== undefined ? await this.guestOwning(guestAccessToken) : req.params === undefined ? earlier?.guestUserId : undefined;
    const passwordHash = registeredUserId === null && req.password !== undefined ? await hashPassword(req.password) : earlier?.passwordHash;
    return { params, ...(passwordHash !== undefined ? { passwordHash } : {}), ...(guestUserId !== undefined ? { guestUserId } : {}) };
  }

  private async guestOwning(guestAccessToken: string): Promise<string> {
    const owner = await this.sessions.authenticate(guestAccessToken);
    if (!owner?.isGuest) throw forbidden('guest_access_token is not the access token of a guest account');
    return owner.userId;
  }

  /** GET /register/available: the normalised localpart, or M_INVALID_USERNAME / M_USER_IN_USE. */
  async checkUsernameAvailable(username: string): Promise<string> {
    if (!this.ctx.config.enableRegistration) throw forbidden(REGISTRATION_DISABLED);
    const localpart = normaliseRequestedLocalpart(username, this.ctx.config.serverName);
    const userId = userIdFor(localpart, this.ctx.config.serverName);
    if (await this.ctx.stores.users.exists(userId)) throw userInUse(userId);
    return localpart;
  }

  /**
   * The account a requested username names: free, the guest account being
   * upgraded, or the one this UIA session already registered (a replay).
   * Anything else is M_USER_IN_USE.
   */
  private async checkRequestedName(username: string, guestUserId: string | undefined, registeredUserId: string | null): Promise<RegistrationTarget> {
    const { serverName } = this.ctx.config;
    const localpart = normaliseRequestedLocalpart(username, serverName);
    const userId = userIdFor(localpart, serverName);
    if (registeredUserId !== null) {
      if (userId !== registeredUserId) throw unknownError(400, `This session already registered ${registeredUserId}; start a new session for another account`);
      return { localpart, userId, upgradesGuest: false };
    }
    if (guestUserId !== undefined) {
      if (guestUserId !== userId) throw forbidden(`guest_access_token belongs to ${guestUserId}; a guest upgrades with its own localpart as username`);
      return { localpart, userId, upgradesGuest: true };
    }
    if (await this.ctx.stores.users.exists(userId)) throw userInUse(userId);
    return { localpart, userId, upgradesGuest: false };
  }

  /** The guest account becomes a full one with the same user ID, keeping its devices, tokens and profile (as Synapse does). */
  private async upgradeGuest(userId: string, passwordHash: string): Promise<string> {
    if (!(await this.ctx.stores.users.upgradeGuest(userId, passwordHash))) throw userInUse(userId);
    return userId;
  }

  /** The registration's answer: the user ID, and a new device's access token unless `inhibit_login`. */
  private async loginAfterRegistration(userId: string, params: RegistrationParams): Promise<RegistrationResult> {
    if (params.inhibitLogin) return { userId };
    return this.sessions.createSession(userId, { deviceId: params.deviceId, displayName: params.initialDeviceDisplayName, refreshable: params.refreshToken });
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
  private async registerGuest(params: RegistrationParams): Promise<RegistrationResult> {
    if (!this.ctx.config.allowGuestAccess) {
      throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is disabled on this server');
    }
    const userId = await this.createAccount({ passwordHash: null, isGuest: true });
    // No refresh token, as in Synapse: a guest whose token ends registers again.
    return this.sessions.createSession(userId, { deviceId: params.deviceId, displayName: params.initialDeviceDisplayName });
  }
}
