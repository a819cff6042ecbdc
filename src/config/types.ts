// The validated, typed form of homeserver.yaml. Names are camelCase versions
// of Synapse's keys (documented in Synapse's config manual) with Synapse's
// meaning; `src/config/load.ts` turns YAML into this and nothing else reads YAML.
import type { DatabaseTarget } from '../storage/open.js';

export type ListenerResource = 'client' | 'federation' | 'keys' | 'media' | 'static' | 'health' | 'metrics' | 'openid' | 'consent' | 'replication';

export interface ListenerConfig {
  port: number;
  /** Synapse's default is ['::', '0.0.0.0']; we bind what is listed. */
  bindAddresses: string[];
  tls: boolean;
  /** 'http' serves resources; other types (metrics, manhole) are accepted and reported. */
  type: string;
  resources: Array<{ names: ListenerResource[]; compress: boolean }>;
  /** Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy. */
  xForwarded: boolean;
}

/** A token bucket: `perSecond` refill rate and `burstCount` capacity (Synapse's rc_* shape). */
export interface RateLimit {
  perSecond: number;
  burstCount: number;
}

export interface RateLimits {
  message: RateLimit;
  registration: RateLimit;
  login: { address: RateLimit; account: RateLimit; failedAttempts: RateLimit };
  /** Other rc_* keys, kept by their Synapse names for later use. */
  other: Record<string, RateLimit>;
}

export interface TrustedKeyServer {
  serverName: string;
  /** key ID → unpadded base64 public key */
  verifyKeys?: Record<string, string>;
  acceptKeysInsecurely: boolean;
}

export interface HomeserverConfig {
  /** Absolute path of the file this came from; relative paths in it resolve against its directory. */
  configPath: string;
  serverName: string;
  publicBaseUrl: string;
  listeners: ListenerConfig[];
  database: DatabaseTarget;
  signingKeyPath: string;
  enableRegistration: boolean;
  registrationRequiresToken: boolean;
  enableRegistrationWithoutVerification: boolean;
  registrationSharedSecret?: string;
  allowGuestAccess: boolean;
  tlsCertificatePath?: string;
  tlsPrivateKeyPath?: string;
  /** undefined: federate with anyone; a list: only with these server names. */
  federationDomainWhitelist?: string[];
  /** CIDR ranges outbound requests must not reach (Synapse's ip_range_blacklist). */
  ipRangeBlacklist: string[];
  federationIpRangeBlacklist: string[];
  ipRangeWhitelist: string[];
  federationVerifyCertificates: boolean;
  /** PEM files of extra CAs trusted for federation (e.g. a LAN's self-made CA). */
  federationCustomCaList: string[];
  trustedKeyServers: TrustedKeyServer[];
  mediaStorePath: string;
  /** Bytes. Synapse default "50M". */
  maxUploadSize: number;
  serveServerWellknown: boolean;
  rateLimits: RateLimits;
  logConfig?: string;
  defaultRoomVersion: string;
}
