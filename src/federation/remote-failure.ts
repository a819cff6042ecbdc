// How a failed request to another server reaches the client that caused it.
// A refusal the client can act on (the user or room does not exist there,
// the server will not say) keeps its meaning; anything else — unreachable,
// timed out, an answer we cannot use — is 502 M_UNKNOWN. Either way the
// message names the server and says what went wrong there, because a bare
// "failed to fetch" leaves the user and the operator guessing.
import { MatrixError } from '../core/errors.js';
import { FederationError } from './errors.js';

/**
 * `what` completes "Could not …", e.g. "get the profile of @bob:hs2 from
 * hs2". Errors that are not a FederationError (our own MatrixErrors, bugs)
 * are returned as they are.
 */
export function remoteFailure(err: unknown, what: string): Error {
  if (!(err instanceof FederationError)) return err instanceof Error ? err : new Error(String(err));
  const reason = `Could not ${what}: ${err.message}`;
  // Our own policy said no (federation_domain_whitelist, IP ranges): not the remote's doing.
  if (err.kind === 'refused') return new MatrixError(403, 'M_FORBIDDEN', reason);
  if (err.kind !== 'http') return new MatrixError(502, 'M_UNKNOWN', reason);
  // As Synapse: a remote 403 or 404 is passed on; an unknown endpoint there is not "not found" here.
  if (err.status === 404 && err.errcode !== 'M_UNRECOGNIZED') return new MatrixError(404, 'M_NOT_FOUND', reason);
  if (err.status === 403) return new MatrixError(403, 'M_FORBIDDEN', reason);
  // Media answers whose meaning survives the hop (content_repository.yaml).
  if (err.errcode === 'M_TOO_LARGE') return new MatrixError(502, 'M_TOO_LARGE', reason);
  if (err.errcode === 'M_NOT_YET_UPLOADED') return new MatrixError(504, 'M_NOT_YET_UPLOADED', reason);
  return new MatrixError(502, 'M_UNKNOWN', reason);
}

/**
 * Whether another server answered that it lacks the endpoint (Synapse's
 * is_unknown_endpoint): 404/405 with M_UNRECOGNIZED or no Matrix error at
 * all (older servers), or 400 M_UNRECOGNIZED (older Synapses).
 */
export function isUnknownEndpoint(err: unknown): boolean {
  if (!(err instanceof FederationError) || err.kind !== 'http') return false;
  if (err.status === 404 || err.status === 405) return err.errcode === undefined || err.errcode === 'M_UNRECOGNIZED';
  return err.status === 400 && err.errcode === 'M_UNRECOGNIZED';
}
