// Single sign-on redirects (client-server-api/modules/sso_login.md;
// sso_login_redirect.yaml). Axon offers no SSO: GET /login lists no
// m.login.sso flow, so no identity provider exists to redirect to.
import { notFound } from '../../core/errors.js';
import type { Route } from '../types.js';

/**
 * sso_login_redirect.yaml's answer for an identity provider the server does
 * not recognise is 404; with none configured, none is recognised, and the
 * bare /redirect has nowhere to send the browser either.
 */
function noSso(): never {
  throw notFound('This homeserver does not offer single sign-on; log in with a password instead');
}

export function ssoRoutes(): Route[] {
  return [
    /** # GET /_matrix/client/v3/login/sso/redirect */
    { method: 'GET', path: '/_matrix/client/v3/login/sso/redirect', auth: 'none', handler: async () => noSso() },
    /** # GET /_matrix/client/v3/login/sso/redirect/{idpId} */
    { method: 'GET', path: '/_matrix/client/v3/login/sso/redirect/{idpId}', auth: 'none', handler: async () => noSso() },
  ];
}
