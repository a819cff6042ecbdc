// Profiles (client-server-api/_index.md, "Profiles"; data/api/client-server/profile.yaml).
import type { JsonObject } from '../../core/types.js';
import type { AccountServices } from '../../services/accounts/index.js';
import { missingParam, notFound } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalString, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function profileRoutes(services: AccountServices): Route[] {
  const profiles = services.profiles;
  return [
    /** # GET /_matrix/client/v3/profile/{userId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/profile/{userId}',
      auth: 'optional',
      handler: async (req) => {
        const profile = await profiles.get(req.params.userId!);
        const body: JsonObject = {};
        if (profile.displayname !== null) body.displayname = profile.displayname;
        if (profile.avatarUrl !== null) body.avatar_url = profile.avatarUrl;
        return { body };
      },
    },
    /** # GET /_matrix/client/v3/profile/{userId}/displayname */
    {
      method: 'GET',
      path: '/_matrix/client/v3/profile/{userId}/displayname',
      auth: 'optional',
      handler: async (req) => {
        const { displayname } = await profiles.get(req.params.userId!);
        if (displayname === null) throw notFound(`${req.params.userId} has no display name`);
        return { body: { displayname } };
      },
    },
    /** # PUT /_matrix/client/v3/profile/{userId}/displayname */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/profile/{userId}/displayname',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const body = requireObject(req.body);
        await profiles.setDisplayname(requesterOf(req).userId, req.params.userId!, presentString(body, 'displayname'));
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/profile/{userId}/avatar_url */
    {
      method: 'GET',
      path: '/_matrix/client/v3/profile/{userId}/avatar_url',
      auth: 'optional',
      handler: async (req) => {
        const { avatarUrl } = await profiles.get(req.params.userId!);
        if (avatarUrl === null) throw notFound(`${req.params.userId} has no avatar`);
        return { body: { avatar_url: avatarUrl } };
      },
    },
    /** # PUT /_matrix/client/v3/profile/{userId}/avatar_url */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/profile/{userId}/avatar_url',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        await profiles.setAvatarUrl(requesterOf(req).userId, req.params.userId!, presentString(body, 'avatar_url'));
        return { body: {} };
      },
    },
  ];
}

/** A field that must be sent, as a string or as null (null removes the value). */
function presentString(body: JsonObject, field: string): string | null {
  if (!(field in body)) throw missingParam(`Missing required field '${field}'`);
  return optionalString(body, field) ?? null;
}
