// User-interactive authentication (client-server-api/_index.md,
// "User-Interactive Authentication API"). A request names the operation it
// authorises; sessions are bound to that operation so a session started to
// change a password cannot be spent deleting devices.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { forbidden, type MatrixError } from '../../core/errors.js';
import type { UiaSession } from '../../storage/accounts/index.js';
import type { AccountsContext } from './common.js';
import { resolveLocalUser, unknownError } from './common.js';
import { verifyPassword } from './passwords.js';
import { generateSessionId } from './tokens.js';

export const STAGE_PASSWORD = 'm.login.password';
export const STAGE_DUMMY = 'm.login.dummy';
export const STAGE_REGISTRATION_TOKEN = 'm.login.registration_token';

/** Synapse keeps UIA sessions for two days. */
const SESSION_LIFETIME_MS = 48 * 60 * 60 * 1000;

export interface UiaRequest {
  /** What is being authorised; a session only ever authorises one operation. */
  operation: string;
  /** Each flow is a list of stage types; completing any one flow is enough. */
  flows: string[][];
  /** The request's `auth` dict, if any. */
  auth: JsonObject | undefined;
  /** The account `m.login.password` must prove; required when a flow uses that stage. */
  userId?: string;
  /** What the session remembers for the operation (replacing what it held), so a later request may leave it out. */
  remember?: JsonObject;
}

/** What a session holds for its operation between requests. */
export interface UiaMemory {
  data: JsonObject | null;
  /** The account a registration through the session created. */
  registeredUserId: string | null;
}

export interface UiaCompleted {
  sessionId: string;
  /** The registration token whose use this session reserved, if any. */
  registrationToken: string | null;
}

/**
 * Thrown while a flow is incomplete: the 401 body the client needs to go on
 * (flows, params, session, completed, plus errcode/error after a failed stage).
 * Not a MatrixError because the first challenge has no errcode at all.
 */
export class UiaIncomplete extends Error {
  constructor(readonly body: JsonObject) {
    super(typeof body.error === 'string' ? body.error : 'Additional authentication is required');
  }
}

interface StageFailure {
  errcode: string;
  error: string;
}

export class UserInteractiveAuth {
  constructor(private readonly ctx: AccountsContext) {}

  /** Resolves when a flow is complete; otherwise throws UiaIncomplete (or a MatrixError for non-retryable problems). */
  async authenticate(req: UiaRequest): Promise<UiaCompleted> {
    await this.expireSessions();
    const { uiaSessions } = this.ctx.stores;
    const requestedSession = stringField(req.auth, 'session');
    let sessionId: string;
    let completed: string[];
    if (requestedSession === undefined) {
      sessionId = generateSessionId();
      completed = [];
      await uiaSessions.create(sessionId, req.operation, this.ctx.now(), req.remember);
    } else {
      const session = await this.sessionFor(requestedSession, req.operation);
      sessionId = session.sessionId;
      completed = session.completedStages;
      if (req.remember !== undefined) await uiaSessions.setData(sessionId, req.remember);
    }

    const stage = stringField(req.auth, 'type');
    // A completed stage is not retried (the spec lets the server answer with the result instead).
    if (req.auth !== undefined && stage !== undefined && !completed.includes(stage)) {
      if (!req.flows.some((flow) => flow.includes(stage))) {
        throw this.incomplete(sessionId, req, completed, {
          errcode: 'M_UNRECOGNIZED',
          error: `Authentication type '${stage}' is not offered for this request`,
        });
      }
      const failure = await this.runStage(stage, req, sessionId);
      if (failure) throw this.incomplete(sessionId, req, completed, failure);
      completed = [...completed, stage];
      await uiaSessions.setCompletedStages(sessionId, completed);
    }

    if (req.flows.some((flow) => flow.every((s) => completed.includes(s)))) {
      const session = await uiaSessions.get(sessionId);
      return { sessionId, registrationToken: session?.registrationToken ?? null };
    }
    throw this.incomplete(sessionId, req, completed);
  }

  /**
   * The authorised operation succeeded: the session is spent, and a reserved
   * registration token use becomes a completed one. Call it inside the
   * operation's transaction so both commit together.
   */
  async finish(result: UiaCompleted): Promise<void> {
    const spent = await this.ctx.stores.uiaSessions.delete(result.sessionId);
    if (spent && result.registrationToken !== null) await this.ctx.stores.registrationTokens.complete(result.registrationToken);
  }

  /** What session `sessionId` remembers for `operation`; undefined for an unknown session (authenticate then refuses it). */
  async memoryOf(sessionId: string, operation: string): Promise<UiaMemory | undefined> {
    const session = await this.ctx.stores.uiaSessions.get(sessionId);
    if (!session) return undefined;
    if (session.operation !== operation) throw differentOperation();
    return { data: session.data, registeredUserId: session.registeredUserId };
  }

  /**
   * A registration through the session succeeded. Unlike `finish`, the
   * session stays (until it expires), naming the new account, so that a
   * replay of the completed session answers with that account, as Synapse
   * does. Call it inside the registering transaction, with the function
   * that creates the account: it runs only if no other request registered
   * through the session first. Returns the account the session registered.
   */
  async finishRegistration(result: UiaCompleted, createAccount: () => Promise<string>): Promise<string> {
    const { uiaSessions, registrationTokens } = this.ctx.stores;
    if (!(await uiaSessions.claimForRegistration(result.sessionId))) {
      const registered = (await uiaSessions.get(result.sessionId))?.registeredUserId;
      if (!registered) throw unknownError(400, 'This user-interactive auth session has ended; start again without one');
      return registered;
    }
    const userId = await createAccount();
    await uiaSessions.setRegisteredUser(result.sessionId, userId);
    if (result.registrationToken !== null) {
      await registrationTokens.complete(result.registrationToken);
      // Spent: the session's expiry must not give the use back.
      await uiaSessions.setRegistrationToken(result.sessionId, null);
    }
    return userId;
  }

  private async sessionFor(sessionId: string, operation: string): Promise<UiaSession> {
    const session = await this.ctx.stores.uiaSessions.get(sessionId);
    if (!session) throw unknownError(400, `Unknown user-interactive auth session '${sessionId}'; start again without one`);
    if (session.operation !== operation) throw differentOperation();
    return session;
  }

  private async runStage(stage: string, req: UiaRequest, sessionId: string): Promise<StageFailure | undefined> {
    switch (stage) {
      case STAGE_DUMMY:
        return undefined;
      case STAGE_PASSWORD:
        return this.checkPassword(req);
      case STAGE_REGISTRATION_TOKEN:
        return this.checkRegistrationToken(req.auth, sessionId);
      default:
        return { errcode: 'M_UNRECOGNIZED', error: `Authentication type '${stage}' is not supported by this server` };
    }
  }

  private async checkPassword(req: UiaRequest): Promise<StageFailure | undefined> {
    if (req.userId === undefined) throw new Error(`UIA operation '${req.operation}' offers m.login.password without naming the user`);
    const identifier = req.auth?.identifier;
    // The legacy top-level `user` field predates identifiers; Synapse still reads it.
    const named =
      isObject(identifier) && identifier.type === 'm.id.user' ? stringField(identifier, 'user') : stringField(req.auth, 'user');
    const password = stringField(req.auth, 'password');
    if (named === undefined || password === undefined) {
      return { errcode: 'M_MISSING_PARAM', error: "m.login.password needs an 'm.id.user' identifier and a 'password'" };
    }
    if (resolveLocalUser(named, this.ctx.config.serverName) !== req.userId) {
      throw forbidden('The password given is for a different user than the one making the request');
    }
    const user = await this.ctx.stores.users.get(req.userId);
    if (!user || !(await verifyPassword(password, user.passwordHash))) return { errcode: 'M_FORBIDDEN', error: 'Invalid password' };
    return undefined;
  }

  private async checkRegistrationToken(auth: JsonObject | undefined, sessionId: string): Promise<StageFailure | undefined> {
    const token = stringField(auth, 'token');
    if (token === undefined) return { errcode: 'M_MISSING_PARAM', error: "m.login.registration_token needs a 'token'" };
    // Reserving a use now keeps a limited token from being promised to more registrations than it allows.
    if (!(await this.ctx.stores.registrationTokens.reserve(token, this.ctx.now()))) {
      return { errcode: 'M_UNAUTHORIZED', error: 'Invalid registration token' };
    }
    await this.ctx.stores.uiaSessions.setRegistrationToken(sessionId, token);
    return undefined;
  }

  private incomplete(sessionId: string, req: UiaRequest, completed: string[], failure?: StageFailure): UiaIncomplete {
    const body: JsonObject = {
      session: sessionId,
      flows: req.flows.map((stages) => ({ stages })),
      params: {},
      completed,
    };
    if (failure) Object.assign(body, failure);
    return new UiaIncomplete(body);
  }

  /** Abandoned sessions give back the registration token use they reserved. */
  private async expireSessions(): Promise<void> {
    const expired = await this.ctx.stores.uiaSessions.listCreatedBefore(this.ctx.now() - SESSION_LIFETIME_MS);
    for (const session of expired) {
      await this.ctx.stores.db.transaction(async () => {
        // Only whoever deletes the session gives its token use back, so a use is never released twice.
        const deleted = await this.ctx.stores.uiaSessions.delete(session.sessionId);
        if (deleted && session.registrationToken !== null) await this.ctx.stores.registrationTokens.release(session.registrationToken);
      });
    }
  }
}

function differentOperation(): MatrixError {
  return forbidden('This user-interactive auth session was started for a different request');
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(obj: JsonObject | undefined, field: string): string | undefined {
  const value = obj?.[field];
  return typeof value === 'string' ? value : undefined;
}
