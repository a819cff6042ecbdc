// Pushers (client-server-api/modules/push.md, "Pushers"; data/api/client-server/pusher.yaml).
import type { JsonObject } from '../../core/types.js';
import type { PusherService } from '../../services/push/index.js';
import type { Pusher } from '../../storage/push/index.js';
import { invalidParam, missingParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalString, requireObject, requireObjectField, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

/** pusher.yaml's limits. */
const MAX_APP_ID_CHARS = 64;
const MAX_PUSHKEY_BYTES = 512;

export function pusherRoutes(pushers: PusherService, clock: () => number): Route[] {
  return [
    /** # GET /_matrix/client/v3/pushers */
    {
      method: 'GET',
      path: '/_matrix/client/v3/pushers',
      auth: 'required',
      handler: async (req) => {
        const list = await pushers.list(requesterOf(req).userId);
        return { body: { pushers: list.map(pusherJson) } };
      },
    },
    /** # POST /_matrix/client/v3/pushers/set */
    {
      method: 'POST',
      path: '/_matrix/client/v3/pushers/set',
      auth: 'required',
      rateLimit: 'message',
      handler: async (req) => {
        const requester = requesterOf(req);
        const body = requireObject(req.body);
        const appId = requireString(body, 'app_id');
        const pushkey = requireString(body, 'pushkey');
        if (!Object.hasOwn(body, 'kind')) throw missingParam("Missing required field 'kind' (null deletes the pusher)");
        const kind = optionalString(body, 'kind');
        if (kind === undefined) {
          await pushers.remove(requester.userId, appId, pushkey);
          return { body: {} };
        }
        checkLimits(appId, pushkey);
        if (kind === 'email') {
          throw invalidParam("Email pushers are not supported: this server does not send email; use kind 'http'");
        }
        if (kind !== 'http') throw invalidParam(`'kind' must be 'http' or null, not '${kind}'`);
        const data = requireObjectField(body, 'data');
        if (data['format'] !== undefined && typeof data['format'] !== 'string') throw invalidParam("'data.format' must be a string");
        await pushers.set(
          {
            userId: requester.userId,
            deviceId: requester.deviceId,
            kind,
            appId,
            pushkey,
            pushkeyTs: clock(),
            appDisplayName: requireString(body, 'app_display_name'),
            deviceDisplayName: requireString(body, 'device_display_name'),
            profileTag: optionalString(body, 'profile_tag') ?? null,
            lang: requireString(body, 'lang'),
            data,
          },
          optionalBoolean(body, 'append') ?? false,
        );
        return { body: {} };
      },
    },
  ];
}

function checkLimits(appId: string, pushkey: string): void {
  if ([...appId].length > MAX_APP_ID_CHARS) throw invalidParam(`'app_id' must be at most ${MAX_APP_ID_CHARS} characters`);
  if (Buffer.byteLength(pushkey) > MAX_PUSHKEY_BYTES) throw invalidParam(`'pushkey' must be at most ${MAX_PUSHKEY_BYTES} bytes`);
}

function pusherJson(pusher: Pusher): JsonObject {
  return {
    pushkey: pusher.pushkey,
    kind: pusher.kind,
    app_id: pusher.appId,
    app_display_name: pusher.appDisplayName,
    device_display_name: pusher.deviceDisplayName,
    ...(pusher.profileTag !== null ? { profile_tag: pusher.profileTag } : {}),
    lang: pusher.lang,
    data: pusher.data,
  };
}
