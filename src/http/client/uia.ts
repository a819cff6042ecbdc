// Shared by the account routes: the acting user of an authenticated route,
// the 401 answer of user-interactive auth, and the tokens of a new session.
import type { JsonObject } from '../../core/types.js';
import { UiaIncomplete, type NewSession } from '../../services/accounts/index.js';
import type { MatrixRequest, MatrixResponse, Requester } from '../types.js';
import { optionalObject } from '../validate.js';

/** The requester of a route declared `auth: 'required'` (the edge guarantees one). */
export function requesterOf(req: MatrixRequest): Requester {
  if (!req.requester) throw new Error(`route ${req.method} reached its handler without a requester; declare auth: 'required'`);
  return req.requester;
}

/** The `auth` dict of a UIA request body. */
export function authDict(body: JsonObject): JsonObject | undefined {
  return optionalObject(body, 'auth');
}

/**
 * Runs a UIA-protected action; an unfinished flow becomes the spec's 401
 * body (flows, params, session, completed, and errcode/error after a failed
 * stage) — which, unlike other errors, may have no errcode at all.
 */
export async function withUia(action: () => Promise<MatrixResponse>): Promise<MatrixResponse> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof UiaIncomplete) return { status: 401, body: err.body };
    throw err;
  }
}

/** The new session's part of a login or registration answer (login.yaml, registration.yaml). */
export function sessionResponse(session: Omit<NewSession, 'userId'>): JsonObject {
  return {
    access_token: session.accessToken,
    device_id: session.deviceId,
    ...(session.refreshToken !== undefined ? { refresh_token: session.refreshToken } : {}),
    ...(session.expiresInMs !== undefined ? { expires_in_ms: session.expiresInMs } : {}),
  };
}
