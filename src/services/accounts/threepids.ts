// Third-party identifiers (client-server-api/_index.md, "Adding Account
// Administrative Contact Information"; administrative_contact.yaml, and the
// requestToken endpoints of registration.yaml and password_management.yaml).
//
// Axon sends no e-mail or SMS, so it validates no 3PID itself and associates
// none with an account: every request to add or verify one is refused with
// the spec's errcode, and /capabilities (m.3pid_changes) and the
// registration flows say the same. What it does is what the spec gives the
// homeserver towards identity servers: binding an identifier the client
// validated with an identity server (POST /account/3pid/bind), remembering
// where (ThreepidBindingStore), and unbinding it there on /account/3pid/unbind,
// /account/3pid/delete and deactivation, as Synapse does.
import { MatrixError } from '../../core/errors.js';
import type { ThreepidBindingStore } from '../../storage/accounts/threepid-bindings.js';

export type ThreepidMedium = 'email' | 'msisdn';

export const THREEPID_MEDIA: readonly ThreepidMedium[] = ['email', 'msisdn'];

/** What the requestToken is for: each endpoint's spec names its own refusal. */
export type TokenPurpose = 'registration' | 'password_reset' | 'add_to_account';

/** administrative_contact.yaml's id_server_unbind_result. */
export type UnbindResult = 'success' | 'no-support';

const NOT_ENABLED = 'E-mail and phone identifiers are not enabled on this server';

/**
 * The refusal of a requestToken endpoint. Registration and password resets
 * offer only 403 M_THREEPID_DENIED ("does not permit the address");
 * /account/3pid/{medium}/requestToken has 400 M_THREEPID_MEDIUM_NOT_SUPPORTED
 * for exactly this case.
 */
export function refuseTokenRequest(purpose: TokenPurpose, medium: ThreepidMedium): MatrixError {
  const what = medium === 'email' ? 'e-mail addresses' : 'phone numbers';
  if (purpose === 'add_to_account') {
    return new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `${NOT_ENABLED}: ${what} cannot be added to accounts`);
  }
  const use = purpose === 'registration' ? 'register with' : 'reset passwords with';
  return new MatrixError(403, 'M_THREEPID_DENIED', `${NOT_ENABLED}: ${what} cannot be used to ${use}`);
}

/**
 * POST /account/3pid and /account/3pid/add: their sid can only come from a
 * requestToken this server refused, so the answer is that same refusal.
 */
export function refuseThreepidAddition(): MatrixError {
  return new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `${NOT_ENABLED}, so none can be added to an account; bind it with an identity server instead`);
}

/** What binding needs of identity servers (services/identity-servers.ts implements it). */
export interface IdentityBindings {
  bind(idServer: string, idAccessToken: string, sid: string, clientSecret: string, mxid: string): Promise<{ medium: string; address: string }>;
  /** False when the identity server does not support unbinding. */
  unbind(idServer: string, mxid: string, medium: string, address: string): Promise<boolean>;
}

export interface BindRequest {
  idServer: string;
  idAccessToken: string;
  sid: string;
  clientSecret: string;
}

export class ThreepidService {
  constructor(
    private readonly bindings: ThreepidBindingStore,
    private readonly identity: IdentityBindings,
    /** Told why an identity server could not unbind a deactivated user's identifier. */
    private readonly onUnbindFailure: (err: unknown, userId: string) => void,
  ) {}

  /** POST /account/3pid/bind: the identity server binds; we remember where, to unbind it later. */
  async bind(userId: string, request: BindRequest): Promise<void> {
    const bound = await this.identity.bind(request.idServer, request.idAccessToken, request.sid, request.clientSecret, userId);
    await this.bindings.add(userId, { ...bound, idServer: request.idServer });
  }

  /**
   * POST /account/3pid/unbind and /account/3pid/delete: unbinds from
   * `idServer`, or from every identity server this server bound it on.
   * `no-support` when there is none to ask or one does not support
   * unbinding (administrative_contact.yaml).
   */
  async unbind(userId: string, medium: string, address: string, idServer?: string): Promise<UnbindResult> {
    const idServers = idServer !== undefined ? [idServer] : await this.bindings.idServersFor(userId, medium, address);
    if (idServers.length === 0) return 'no-support';
    let all = true;
    for (const server of idServers) {
      all = (await this.identity.unbind(server, userId, medium, address)) && all;
      await this.bindings.remove(userId, { medium, address, idServer: server });
    }
    return all ? 'success' : 'no-support';
  }

  /**
   * On deactivation: every binding made through this server is undone
   * (on `idServer` if the client named one). `success` when there was
   * nothing to unbind (account_deactivation.yaml); a failure is reported
   * and makes the result `no-support`, but never stops the deactivation,
   * as in Synapse.
   */
  async unbindAll(userId: string, idServer?: string): Promise<UnbindResult> {
    const bound = await this.bindings.forUser(userId);
    const seen = new Set<string>();
    let all = true;
    for (const { medium, address } of bound) {
      const key = `${medium}\0${address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        all = (await this.unbind(userId, medium, address, idServer)) === 'success' && all;
      } catch (err) {
        this.onUnbindFailure(err, userId);
        all = false;
      }
    }
    return all ? 'success' : 'no-support';
  }
}
