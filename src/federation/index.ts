// The federation transport, built once per start from the configuration:
// discovery, TLS policy and IP ranges, the signing client, the key ring and
// the inbound request authenticator. The rest of federation (room events,
// joins, queues) uses these through HomeserverServices.federation.
import type { Logger } from 'pino';
import { readPemCertificates } from '../config/ca-files.js';
import type { HomeserverConfig } from '../config/types.js';
import { IpPolicy } from '../core/ip-policy.js';
import type { SigningKey } from '../core/signing.js';
import type { Database } from '../storage/database.js';
import { ServerKeyStore } from '../storage/server-keys.js';
import { FederationClient } from './client.js';
import { httpsWellKnownFetcher, ServerResolver, type SrvRecord } from './discovery.js';
import { OutboundConnector } from './https.js';
import { requestAuthenticator, type IncomingSignedRequest } from './inbound-auth.js';
import { KeyRing } from './key-ring.js';
import { TlsPolicy } from './tls-policy.js';

export interface FederationServices extends FederationTransport {
  /** Other servers' keys; verifies signed JSON and event signatures. */
  keyRing: KeyRing;
  /** Verifies an inbound request's X-Matrix signature; returns the origin. */
  authenticateRequest: (request: IncomingSignedRequest) => Promise<string>;
  /** Closes idle outbound connections (at shutdown). */
  close(): void;
}

/** Knobs tests turn; production uses the defaults. */
export interface FederationTuning {
  /** Deadline for a notary's answer. Default 5 s. */
  notaryTimeoutMs?: number;
  /** Port of /.well-known requests. Default 443. */
  wellKnownPort?: number;
  /** SRV lookups. Default: the system's DNS servers. */
  resolveSrv?: (name: string) => Promise<SrvRecord[]>;
}

export interface FederationSetup {
  config: HomeserverConfig;
  signingKeys: readonly SigningKey[];
  db: Database;
  clock: () => number;
  logger: Logger;
  userAgent: string;
  tuning?: FederationTuning;
}

/** The outbound half: what `axon doctor federation` needs without a database. */
export interface FederationTransport {
  /** Signed requests to other servers. */
  client: FederationClient;
  /** Server discovery with a trace of each step. */
  resolver: ServerResolver;
  /** Single exchanges and TLS probes under the TLS policy and IP ranges. */
  connector: OutboundConnector;
}

export function createFederationTransport(setup: Pick<FederationSetup, 'config' | 'signingKeys' | 'clock' | 'userAgent' | 'tuning'>): FederationTransport {
  const { config, clock } = setup;
  const tls = new TlsPolicy({
    verifyCertificates: config.federationVerifyCertificates,
    verificationWhitelist: config.federationCertificateVerificationWhitelist,
    customCas: config.federationCustomCaList.flatMap((path) => readPemCertificates(path)),
  });
  const connector = new OutboundConnector(tls, new IpPolicy(config.federationIpRangeBlacklist, config.ipRangeWhitelist));
  const resolver = new ServerResolver({
    federationHosts: config.federationHosts,
    fetchWellKnown: httpsWellKnownFetcher(connector, { port: setup.tuning?.wellKnownPort, userAgent: setup.userAgent }),
    resolveSrv: setup.tuning?.resolveSrv,
    clock,
  });
  const client = new FederationClient({
    serverName: config.serverName,
    signingKey: setup.signingKeys[0]!,
    resolver,
    connector,
    domainWhitelist: config.federationDomainWhitelist,
    userAgent: setup.userAgent,
  });
  return { client, resolver, connector };
}

export function createFederation(setup: FederationSetup): FederationServices {
  const { config, logger, clock } = setup;
  warnAboutInsecureTls(config, logger);
  warnAboutMatrixOrgNotary(config, logger);
  const { client, resolver, connector } = createFederationTransport(setup);
  const keyRing = new KeyRing({
    serverName: config.serverName,
    signingKeys: setup.signingKeys,
    store: new ServerKeyStore(setup.db),
    client,
    trustedKeyServers: config.trustedKeyServers,
    clock,
    notaryTimeoutMs: setup.tuning?.notaryTimeoutMs,
    log: (message, fields) => logger.warn(fields, message),
  });
  const authenticateRequest = requestAuthenticator({ serverName: config.serverName, keyRing, domainWhitelist: config.federationDomainWhitelist, clock });
  return { client, keyRing, resolver, connector, authenticateRequest, close: () => client.close() };
}

function warnAboutMatrixOrgNotary(config: HomeserverConfig, logger: Logger): void {
  if (config.suppressKeyServerWarning || !config.trustedKeyServers.some((s) => s.serverName === 'matrix.org')) return;
  logger.warn(
    "trusted_key_servers uses matrix.org to fetch other servers' keys. On a network without internet access set " +
      'trusted_key_servers: [] to fetch them from each server directly (an unreachable notary costs a timeout now and then); ' +
      'to keep matrix.org without this warning, set suppress_key_server_warning: true',
  );
}

function warnAboutInsecureTls(config: HomeserverConfig, logger: Logger): void {
  if (!config.federationVerifyCertificates) {
    logger.warn(
      'federation_verify_certificates is false: certificates of other servers are NOT checked, so anyone on the network path can ' +
        'impersonate them and read or alter federation traffic. Use this only on a test network; instead, trust your own CA with ' +
        'federation_custom_ca_list (see `axon generate-config` comments).',
    );
  }
  const whitelist = config.federationCertificateVerificationWhitelist ?? [];
  if (config.federationVerifyCertificates && whitelist.length > 0) {
    logger.warn({ hosts: whitelist }, 'federation_certificate_verification_whitelist: certificates of these hosts are NOT checked');
  }
}
