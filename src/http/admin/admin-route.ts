// Every Synapse admin API route (/_synapse/admin/...) and Axon's own
// (/_axon/admin/...) is for server admins only: anyone else gets 403
// M_FORBIDDEN before the route looks anything up, so a non-admin learns
// nothing about the users or rooms it names.
import { forbidden } from '../../core/errors.js';
import { requesterOf } from '../client/uia.js';
import type { MatrixRequest, MatrixResponse, Requester, Route } from '../types.js';

export function requireAdmin(req: MatrixRequest): Requester {
  const requester = requesterOf(req);
  if (!requester.isAdmin) throw forbidden('You are not a server admin');
  return requester;
}

/** A route with a token that must belong to a server admin; the handler also gets that admin. */
export function adminRoute(
  method: Route['method'],
  path: string,
  handler: (req: MatrixRequest, admin: Requester) => Promise<MatrixResponse>,
): Route {
  return { method, path, auth: 'required', handler: async (req) => handler(req, requireAdmin(req)) };
}
