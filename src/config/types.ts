// The validated, typed form of homeserver.yaml. Names are camelCase versions
// of Synapse's keys (documented in Synapse's config manual) with Synapse's
// meaning; `src/config/load.ts` turns YAML into this and nothing else reads YAML.
import type { DatabaseTarget } from '../storage/open.js';
import type { LogLevel } from './log-config.js';

export type ListenerResource = 'client' | 'federation' | 'keys' | 'media' | 'static' | 'health' | 'metrics' | 'openid' | 'consent' | 'replication';

export interface ListenerConfig {
  port: number;
  /** Synapse's default is ['::', '0.0.0.0']; we bind what is listed. */
  bindAddresses: string[];
  tls: boolean;
  /** 'http' serves resources; 'metrics' serves /_synapse/metrics when enable_metrics is true; 'manhole' is accepted and reported. */
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
  /** rc_third_party_invite: 3PID invites per inviter, each of which asks an identity server to store (and e-mail) an invite. */
  thirdPartyInvite: RateLimit;
  /** Other rc_* keys, kept by their Synapse names for later use. */
  other: Record<string, RateLimit>;
}

export interface TrustedKeyServer {
  serverName: string;
  /** key ID → unpadded base64 public key */
  verifyKeys?: Record<string, string>;
  acceptKeysInsecurely: boolean;
}

/** Where federation_hosts sends a server name: a host (DNS name or IP) and port. */
export interface FederationHost {
  /** DNS name or IP address, IPv6 without brackets. */
  host: string;
  port: number;
}

/** One entry of Synapse's thumbnail_sizes. */
export interface ThumbnailSize {
  width: number;
  height: number;
  method: 'crop' | 'scale';
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
  /**
   * Host names (globs, Synapse's semantics: `*` and `?`, whole name, any case)
   * whose certificates are not verified. Absent: none.
   */
  federationCertificateVerificationWhitelist?: string[];
  /** PEM files of extra CAs trusted for federation (e.g. a LAN's self-made CA). */
  federationCustomCaList: string[];
  /**
   * Axon's federation_hosts: server name → where to connect, ahead of every
   * discovery step (for LANs without DNS). The certificate is still checked
   * against the server name, and the address is still subject to the IP ranges.
   */
  federationHosts?: Record<string, FederationHost>;
  trustedKeyServers: TrustedKeyServer[];
  /** Synapse's suppress_key_server_warning: no start-up warning about using matrix.org as notary. */
  suppressKeyServerWarning?: boolean;
  mediaStorePath: string;
  /** Bytes. Synapse default "50M". */
  maxUploadSize: number;
  /**
   * Media repository options beyond the two above. Optional so hand-built
   * configs (tests) may leave them out; `load.ts` always fills them, and
   * readers fall back to MEDIA_DEFAULTS (src/config/load.ts).
   */
  urlPreviewEnabled?: boolean;
  /** CIDR ranges URL previews must never fetch from; the private ranges of ip_range_blacklist unless set. */
  urlPreviewIpRangeBlacklist?: string[];
  /** CIDR ranges allowed even when inside the blacklist. */
  urlPreviewIpRangeWhitelist?: string[];
  /** Bytes: the largest page or image a URL preview downloads. Synapse's max_spider_size, default "10M". */
  maxSpiderSize?: number;
  /** Images with more pixels than this are not thumbnailed. Synapse default "32M". */
  maxImagePixels?: number;
  /** Generate thumbnails of exactly the requested size rather than the nearest configured one. */
  dynamicThumbnails?: boolean;
  thumbnailSizes?: ThumbnailSize[];
  serveServerWellknown: boolean;
  rateLimits: RateLimits;
  logConfig?: string;
  /** The level log_config sets (src/config/log-config.ts); absent: info. Re-read on SIGHUP. */
  logLevel?: LogLevel;
  /** Synapse's enable_metrics: listeners of type metrics serve Prometheus metrics only when true. */
  enableMetrics?: boolean;
  defaultRoomVersion: string;
  /** Synapse's `presence:` section; absent means enabled. */
  presence?: PresenceConfig;
  /** Synapse's turn_* keys; absent means no TURN server. */
  turn?: TurnConfig;
  /**
   * Synapse's allow_per_room_profiles (default true): false makes every
   * join, invite and knock carry the member's global profile, whatever
   * displayname or avatar_url the client put in it.
   */
  allowPerRoomProfiles?: boolean;
  /**
   * Synapse's use_insecure_ssl_client_just_for_testing_do_not_use: requests
   * to servers clients name (identity servers, push gateways) skip
   * certificate verification. For test suites whose mock servers present
   * self-signed certificates (SyTest's identity server); never in production.
   */
  insecureClientTls?: boolean;
  /** GET /publicRooms without an access token (Synapse default false). */
  allowPublicRoomsWithoutAuth?: boolean;
  /** Other servers may read our public room directory (Synapse default false). */
  allowPublicRoomsOverFederation?: boolean;
  /**
   * Device display names go to other servers with the devices' keys
   * (Synapse default false: a name like "Alice's work laptop" says more
   * than encryption needs).
   */
  allowDeviceNameLookupOverFederation?: boolean;
  /** Synapse's `user_directory:` section; absent means its defaults. */
  userDirectory?: UserDirectoryConfig;
  /** What GET /.well-known/matrix/support answers; absent: 404 (nothing configured). */
  support?: SupportConfig;
  /**
   * Access token lifetimes (Synapse's refreshable_access_token_lifetime,
   * refresh_token_lifetime, nonrefreshable_access_token_lifetime).
   * Optional so hand-built configs may leave them out; `load.ts` always
   * fills them, and readers fall back to TOKEN_LIFETIME_DEFAULTS.
   */
  tokenLifetimes?: TokenLifetimes;
  /** Synapse's `login_via_existing_session:` section; absent means disabled. */
  loginViaExistingSession?: LoginViaExistingSessionConfig;
}

/** support.yaml's response: who runs the server and where users find help. */
export interface SupportConfig {
  contacts: SupportContact[];
  supportPage?: string;
}

export interface SupportContact {
  /** m.role.admin, m.role.security, or a namespaced role. */
  role: string;
  matrixId?: string;
  emailAddress?: string;
}

/** Milliseconds; null means "never expires" (or, for refreshable access tokens, "refresh tokens are off"). */
export interface TokenLifetimes {
  /** Access tokens issued with a refresh token; null: no refresh tokens are issued. Synapse default 5m. */
  refreshableAccessToken: number | null;
  /** Refresh tokens. Synapse default: no expiry. */
  refreshToken: number | null;
  /** Access tokens issued without a refresh token. Synapse default: no expiry. */
  nonrefreshableAccessToken: number | null;
}

/** Synapse's login_via_existing_session: POST /login/get_token for m.login.token logins. */
export interface LoginViaExistingSessionConfig {
  /** Synapse default false. */
  enabled: boolean;
  /** Whether get_token asks for the password again (UIA). Synapse default true. */
  requireUiAuth: boolean;
  /** How long a login token stays valid, in ms. Synapse default 5m. */
  tokenTimeoutMs: number;
}

/** Synapse's user_directory section. */
export interface UserDirectoryConfig {
  /** false: searches return nothing. Default true. */
  enabled: boolean;
  /** true: every known user is searchable, not only those sharing a room with the searcher or in a public room. Default false. */
  searchAllUsers: boolean;
  /** Rank users of this server above remote ones. Default false. */
  preferLocalUsers: boolean;
}

/** TURN credentials handed out by GET /voip/turnServer (Synapse's turn_* keys). */
export interface TurnConfig {
  uris: string[];
  /** coturn's static-auth-secret: credentials are derived per user and expire. */
  sharedSecret?: string;
  /** How long derived credentials stay valid. Synapse default "1h". */
  userLifetimeMs: number;
  /** Fixed credentials, used when there is no shared secret. */
  username?: string;
  password?: string;
  /** Synapse default true. */
  allowGuests: boolean;
}

export interface PresenceConfig {
  /** false: everyone reads as offline and presence updates are dropped (Synapse's presence.enabled). */
  enabled: boolean;
}
