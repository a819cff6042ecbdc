// TURN credentials for VoIP (client-server-api/modules/voip_events.md,
// "TURN Server API"; data/api/client-server/voip.yaml), with Synapse's
// turn_* options. With a shared secret the credentials are the time-limited
// ones coturn's `use-auth-secret` checks: username "<expiry>:<user ID>",
// password base64(HMAC-SHA1(secret, username)).
import { createHmac } from 'node:crypto';
import type { TurnConfig } from '../../config/types.js';
import type { JsonObject } from '../../core/types.js';
import { forbidden } from '../../core/errors.js';
import type { Route } from '../types.js';
import { requesterOf } from './uia.js';

export function voipRoutes(turn: TurnConfig | undefined, clock: () => number): Route[] {
  return [
    /** # GET /_matrix/client/v3/voip/turnServer */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/voip/turnServer',
      auth: 'required',
      handler: async (req) => {
        const requester = requesterOf(req);
        if (requester.isGuest && turn?.allowGuests === false) throw forbidden('Guest users may not use the TURN server here');
        return { body: turnCredentials(turn, requester.userId, clock()) };
      },
    },
  ];
}

/** Synapse answers {} when no TURN server is configured; clients then fall back to STUN or none. */
export function turnCredentials(turn: TurnConfig | undefined, userId: string, now: number): JsonObject {
  if (!turn || turn.uris.length === 0) return {};
  const ttl = Math.floor(turn.userLifetimeMs / 1000);
  if (turn.sharedSecret !== undefined) {
    const username = `${Math.floor((now + turn.userLifetimeMs) / 1000)}:${userId}`;
    const password = createHmac('sha1', turn.sharedSecret).update(username).digest('base64');
    return { username, password, uris: turn.uris, ttl };
  }
  if (turn.username !== undefined && turn.password !== undefined) {
    return { username: turn.username, password: turn.password, uris: turn.uris, ttl };
  }
  return {};
}
