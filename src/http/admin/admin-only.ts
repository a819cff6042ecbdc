// The check every admin API route makes first (Synapse's assert_requester_is_admin).
import { forbidden } from '../../core/errors.js';
import { requesterOf } from '../client/uia.js';
import type { MatrixRequest } from '../types.js';

export function requireAdmin(req: MatrixRequest): void {
  if (!requesterOf(req).isAdmin) throw forbidden('You are not a server admin');
}
