// Third-party identifiers (client-server-api/_index.md, "Adding Account
// Administrative Contact Information"; administrative_contact.yaml, and the
// requestToken endpoints of registration.yaml and password_management.yaml).
// Axon neither sends e-mail or SMS nor talks to identity servers, so no
// account has a 3PID: every request to add or verify one is refused with the
// spec's errcode. /capabilities (m.3pid_changes) and the registration
// flows say the same.
import { MatrixError } from '../../core/errors.js';

export type ThreepidMedium = 'email' | 'msisdn';

export const THREEPID_MEDIA: readonly ThreepidMedium[] = ['email', 'msisdn'];

/** What the requestToken is for: each endpoint's spec names its own refusal. */
export type TokenPurpose = 'registration' | 'password_reset' | 'add_to_account';

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
 * POST /account/3pid, /account/3pid/add and /account/3pid/bind: their
 * sid can only come from a requestToken this server refused, so the answer
 * is that same refusal.
 */
export function refuseThreepidAddition(): MatrixError {
  return new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `${NOT_ENABLED}, so none can be added to or bound with an account`);
}
