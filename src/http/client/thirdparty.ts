// Third-party networks (client-server-api/modules/third_party_networks.md;
// data/api/client-server/third_party_lookup.yaml). Protocols come from
// application-service bridges; Axon has none registered, so it knows no
// protocols: protocol-specific queries are 404 and general lookups find nothing.
import type { Route } from '../types.js';
import { notFound } from '../../core/errors.js';

export function thirdPartyRoutes(): Route[] {
  const unknownProtocol = async (req: { params: Record<string, string> }) => {
    throw notFound(`No bridge on this server provides the third-party protocol '${req.params.protocol}'`);
  };
  return [
    /** # GET /_matrix/client/v3/thirdparty/protocols */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/protocols', auth: 'required', handler: async () => ({ body: {} }) },
    /** # GET /_matrix/client/v3/thirdparty/protocol/{protocol} */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/protocol/{protocol}', auth: 'required', handler: unknownProtocol },
    /** # GET /_matrix/client/v3/thirdparty/location/{protocol} */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/location/{protocol}', auth: 'required', handler: unknownProtocol },
    /** # GET /_matrix/client/v3/thirdparty/user/{protocol} */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/user/{protocol}', auth: 'required', handler: unknownProtocol },
    /** # GET /_matrix/client/v3/thirdparty/location */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/location', auth: 'required', handler: async () => ({ body: [] }) },
    /** # GET /_matrix/client/v3/thirdparty/user */
    { method: 'GET', path: '/_matrix/client/v3/thirdparty/user', auth: 'required', handler: async () => ({ body: [] }) },
  ];
}
