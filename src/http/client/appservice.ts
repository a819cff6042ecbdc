// Endpoints only application services may call (client-server-api
// "Application service API" interplay; appservice_ping.yaml,
// appservice_room_directory.yaml). Axon has no application service
// registrations (app_service_config_files is not supported), so no access
// token belongs to one: every caller gets 403 M_FORBIDDEN, the errcode
// appservice_ping.yaml gives for a token that is not the application service's.
import { forbidden } from '../../core/errors.js';
import type { Route } from '../types.js';

function notAnApplicationService(): never {
  throw forbidden('Only an application service may call this endpoint, with its own as_token; this server has no application services registered');
}

export function appserviceRoutes(): Route[] {
  return [
    /** # POST /_matrix/client/v1/appservice/{appserviceId}/ping */
    { method: 'POST', path: '/_matrix/client/v1/appservice/{appserviceId}/ping', auth: 'required', handler: async () => notAnApplicationService() },
    /** # PUT /_matrix/client/v3/directory/list/appservice/{networkId}/{roomId} */
    { method: 'PUT', path: '/_matrix/client/v3/directory/list/appservice/{networkId}/{roomId}', auth: 'required', handler: async () => notAnApplicationService() },
  ];
}
