// Typing notifications (client-server-api/modules/typing_notifications.md; data/api/client-server/typing.yaml).
import type { TypingService } from '../../services/user-data/typing.js';
import type { Route } from '../types.js';
import { optionalInteger, requireBoolean, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function typingRoutes(typing: TypingService): Route[] {
  return [
    /** # PUT /_matrix/client/v3/rooms/{roomId}/typing/{userId} */
    {
      method: 'PUT',
      guests: true,
      path: '/_matrix/client/v3/rooms/{roomId}/typing/{userId}',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const isTyping = requireBoolean(body, 'typing');
        const timeout = optionalInteger(body, 'timeout', { min: 0 });
        await typing.setTyping(requesterOf(req).userId, req.params.roomId!, req.params.userId!, isTyping, timeout);
        return { body: {} };
      },
    },
  ];
}
