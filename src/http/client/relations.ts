// Event relationships and threads (relations.yaml, threads_list.yaml;
// modules threading.md, event_replacements.md, reference_relations.md).
import type { ClientEventFormatter } from '../../services/rooms/client-events.js';
import type { RelationService } from '../../services/rooms/relations.js';
import { MatrixError } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { queryBoolean, queryInteger, queryString } from '../validate.js';

export interface RelationRouteDeps {
  relations: RelationService;
  formatter: ClientEventFormatter;
}

/** threads_list.yaml leaves the default limit to the server; Synapse uses 5. */
const DEFAULT_THREADS_LIMIT = 5;
const MAX_THREADS_LIMIT = 100;

function oneOf<T extends string>(req: MatrixRequest, name: string, allowed: readonly T[], fallback: T): T {
  const value = queryString(req.query, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `Query parameter '${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not '${value}'`);
  }
  return value as T;
}

export function relationRoutes({ relations, formatter }: RelationRouteDeps): Route[] {
  const handler = async (req: MatrixRequest) => {
    const { userId, deviceId } = req.requester!;
    const page = await relations.relations(
      userId,
      deviceId,
      req.params.roomId!,
      req.params.eventId!,
      {
        relType: req.params.relType,
        eventType: req.params.eventType,
        from: queryString(req.query, 'from'),
        to: queryString(req.query, 'to'),
        limit: queryInteger(req.query, 'limit', { min: 1 }),
        direction: oneOf(req, 'dir', ['b', 'f'] as const, 'b') === 'f' ? 'forward' : 'backward',
        recurse: queryBoolean(req.query, 'recurse'),
      },
      formatter,
    );
    return { body: { ...page } };
  };
  const base = '/_matrix/client/v1/rooms/{roomId}/relations/{eventId}';
  return [
    /** # GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId} */
    { method: 'GET', path: base, auth: 'required', guests: true, handler },
    /** # GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType} */
    { method: 'GET', path: `${base}/{relType}`, auth: 'required', guests: true, handler },
    /** # GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}/{eventType} */
    { method: 'GET', path: `${base}/{relType}/{eventType}`, auth: 'required', guests: true, handler },
    /** # GET /_matrix/client/v1/rooms/{roomId}/threads */
    {
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/threads',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const { userId, deviceId } = req.requester!;
        const include = oneOf(req, 'include', ['all', 'participated'] as const, 'all');
        const limit = Math.min(queryInteger(req.query, 'limit', { min: 1 }) ?? DEFAULT_THREADS_LIMIT, MAX_THREADS_LIMIT);
        const page = await relations.threads(userId, deviceId, req.params.roomId!, include, queryString(req.query, 'from'), limit, formatter);
        return { body: { ...page } };
      },
    },
  ];
}
