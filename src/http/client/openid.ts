// OpenID (client-server-api/_index.md, "OpenID"; data/api/client-server/openid.yaml)
// and its federation counterpart (server-server-api.md, "OpenID";
// GET /_matrix/federation/v1/openid/userinfo), which integration managers
// such as Element's call to learn whose token they were given.
import type { OpenIdService } from '../../services/push/index.js';
import { forbidden, MatrixError } from '../../core/errors.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function openIdRoutes(openId: OpenIdService): Route[] {
  return [
    /** # POST /_matrix/client/v3/user/{userId}/openid/request_token */
    {
      method: 'POST',
      path: '/_matrix/client/v3/user/{userId}/openid/request_token',
      auth: 'required',
      handler: async (req) => {
        requireObject(req.body);
        const { userId } = requesterOf(req);
        if (req.params.userId !== userId) throw forbidden(`You can only request OpenID tokens for yourself (${userId})`);
        return { body: { ...(await openId.issue(userId)) } };
      },
    },
    /** # GET /_matrix/federation/v1/openid/userinfo */
    {
      method: 'GET',
      path: '/_matrix/federation/v1/openid/userinfo',
      auth: 'none',
      handler: async (req) => {
        const token = req.query.get('access_token');
        if (!token) throw unknownToken('The access_token query parameter is required');
        const userId = await openId.userFor(token);
        if (userId === undefined) throw unknownToken('The OpenID token is unknown or has expired');
        return { body: { sub: userId } };
      },
    },
  ];
}

function unknownToken(message: string): MatrixError {
  return new MatrixError(401, 'M_UNKNOWN_TOKEN', message);
}
