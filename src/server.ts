// The composition root: opens the database, checks it belongs to this server,
// builds services and routes, and starts the configured listeners. The CLI
// (`axon start`) and the tests call `startHomeserver`; nothing else wires
// things together.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HomeserverConfig, ListenerConfig } from './config/types.js';
import { DEFAULT_LOG_LEVEL } from './config/log-config.js';
import type { SigningKey } from './core/signing.js';
import { accountAuthenticator, accountRoutes } from './http/accounts.js';
import { versionsRoutes } from './http/client/versions.js';
import { LegacySyncService, SlidingSyncService, SyncService } from './services/sync/index.js';
import { legacyEventRoutes } from './http/client/legacy-events.js';
import { SLIDING_SYNC_UNSTABLE_FEATURE, slidingSyncRoutes } from './http/client/sliding-sync.js';
import { syncRoutes } from './http/client/sync.js';
import { serverKeyRoutes } from './http/key/server-keys.js';
import { RateLimiters } from './http/rate-limit.js';
import { Router } from './http/router.js';
import { closeServer, createRequestListener, InFlightRequests, listen, replaceCertificate, type BoundServer, type TlsFiles } from './http/server.js';
import type { Route } from './http/types.js';
import { wellKnownRoutes } from './http/wellknown.js';
import { HomeserverMetrics, metricsRequestListener } from './http/metrics.js';
import type { Database } from './storage/database.js';
import { openDatabase } from './storage/open.js';
import { createAccountServices, type AccountServices } from './services/accounts/index.js';
import { Notifier } from './services/notifier.js';
import { RoomStore } from './storage/rooms/index.js';
import { userDataRoutes } from './http/user-data.js';
import { createUserDataServices, type UserDataServices } from './services/user-data/index.js';
import { roomRoutes } from './http/client/rooms.js';
import { roomEventRoutes } from './http/client/room-events.js';
import { ClientEventFormatter } from './services/rooms/client-events.js';
import { EventPipeline } from './services/rooms/event-pipeline.js';
import { RoomService } from './services/rooms/index.js';
import { MemberProfileUpdates } from './services/rooms/member-profiles.js';
import { BackgroundTasks } from './services/background-tasks.js';
import { applyRedaction } from './services/rooms/redactions.js';
import { RoomStateReader } from './services/rooms/room-state-reader.js';
import { HistoryVisibility } from './services/rooms/visibility.js';
import { TimelineService } from './services/rooms/timeline.js';
import { RelationService } from './services/rooms/relations.js';
import { RoomUpgrader } from './services/rooms/upgrade.js';
import { suspendedSenderCheck } from './services/rooms/suspension.js';
import { RelationStore } from './storage/rooms/relations.js';
import { messageRoutes } from './http/client/messages.js';
import { relationRoutes } from './http/client/relations.js';
import { upgradeRoutes } from './http/client/upgrade.js';
import { MediaRepository } from './services/media/index.js';
import { mediaDownloadRoutes } from './http/media/download.js';
import { mediaUploadRoutes } from './http/media/upload.js';
import { createPushServices, type PushServices } from './services/push/index.js';
import { AddressPolicy, guardedJsonRequester } from './services/outbound-http.js';
import { IdentityServerClient } from './services/identity-servers.js';
import { ThirdPartyInviteService } from './services/rooms/third-party-invites.js';
import { federationThirdPartyInviteRoutes } from './http/federation/third-party-invites.js';
import { NotificationList } from './services/push/notification-list.js';
import { pushRulesRoutes } from './http/client/push-rules.js';
import { pusherRoutes } from './http/client/pushers.js';
import { notificationRoutes } from './http/client/notifications.js';
import { openIdRoutes } from './http/client/openid.js';
import { voipRoutes } from './http/client/voip.js';
import { thirdPartyRoutes } from './http/client/thirdparty.js';
import { appserviceRoutes } from './http/client/appservice.js';
import { createDiscoveryServices, type DiscoveryServices } from './services/directory/discovery.js';
import { directoryRoutes } from './http/client/directory.js';
import { hierarchyRoutes } from './http/client/hierarchy.js';
import { roomSummaryRoutes } from './http/client/room-summary.js';
import { mutualRoomsRoutes } from './http/client/mutual-rooms.js';
import { MutualRoomsService } from './services/rooms/mutual-rooms.js';
import { publicRoomRoutes } from './http/client/public-rooms.js';
import { userDirectoryRoutes } from './http/client/user-directory.js';
import { searchRoutes } from './http/client/search.js';
import { reportRoutes } from './http/client/report.js';
import { createE2eeServices, type E2eeServices } from './services/e2ee/index.js';
import { keyRoutes } from './http/client/keys.js';
import { toDeviceRoutes } from './http/client/to-device.js';
import { roomKeyRoutes } from './http/client/room-keys.js';
import { dehydratedDeviceRoutes } from './http/client/dehydrated-device.js';
import { CaFileError } from './config/ca-files.js';
import { createFederation, type FederationServices, type FederationTuning } from './federation/index.js';
import { federationQueryRoutes } from './http/federation/query.js';
import { axonVersion, federationVersionRoutes } from './http/federation/version.js';
import { federationEventRoutes } from './http/federation/events.js';
import { federationMembershipRoutes } from './http/federation/membership.js';
import { federationTransactionRoutes } from './http/federation/transactions.js';
import type { MembershipServer } from './federation/inbound/membership.js';
import { createRoomFederation, serveMemberships, type RoomFederation } from './federation/room-federation.js';
import { RemoteQueries } from './federation/remote-queries.js';
import { FederationMediaSource } from './federation/remote-media.js';
import { federationMediaRoutes } from './http/federation/media.js';
import { federationPublicRoomRoutes } from './http/federation/public-rooms.js';
import { federationHierarchyRoutes } from './http/federation/hierarchy.js';
import { createRemoteE2ee, serveEdus, type EduFederation } from './federation/edus/index.js';
import { federationUserKeyRoutes } from './http/federation/user-keys.js';
import { federationAdminRoutes } from './http/admin/federation.js';
import { rootPageRoutes } from './http/root-page.js';
import { serverVersionRoutes } from './http/admin/version.js';
import { roomAdminRoutes } from './http/admin/rooms.js';
import { RoomAdministration } from './services/rooms/room-admin.js';
import { RoomAdminStore } from './storage/rooms/admin.js';
import { RoomPurgeStore } from './storage/rooms/purge.js';
import { ServerStatusService } from './services/server-status.js';
import { serverStatusRoutes } from './http/admin/status.js';
import { adminConsoleRoutes } from './http/admin/console.js';
import { MediaAdministration } from './services/media/admin.js';
import { mediaAdminRoutes } from './http/admin/media.js';

export interface StartOptions {
  config: HomeserverConfig;
  signingKeys: SigningKey[];
  logger: Logger;
  /** Time source for rate limits and key validity; tests pass a fake. */
  clock?: () => number;
  /** Federation timeouts and lookups; tests shorten and fake them. */
  federationTuning?: FederationTuning;
  /**
   * PEM CAs trusted for identity servers besides Node's (tests' own CA;
   * operators use NODE_EXTRA_CA_CERTS, which Node reads at start).
   */
  identityServerCas?: string[];
}

export interface RunningHomeserver {
  close(): Promise<void>;
  /**
   * Applies what may change while running (SIGHUP): the log level and the
   * TLS certificate and key, read again from `config`'s paths. Open
   * connections are kept. Throws a StartupError, changing nothing, when the
   * new files cannot be read or do not match.
   */
  reload(config: HomeserverConfig): void;
  /** `type` is the listener's: 'http', or 'metrics' for the metrics listener. */
  listeners: Array<{ address: string; port: number; tls: boolean; type: string }>;
  config: HomeserverConfig;
  db: Database;
  rateLimiters: RateLimiters;
  accounts: AccountServices;
  services: HomeserverServices;
}

/** A problem the operator must fix before the server can start; its message is one line. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function startHomeserver(opts: StartOptions): Promise<RunningHomeserver> {
  const { config, logger } = opts;
  const clock = opts.clock ?? Date.now;
  if (opts.signingKeys.length === 0) throw new StartupError(`no signing key: ${config.signingKeyPath} holds no ed25519 key`);
  const tls = loadTlsFiles(config);
  const db = await openConfiguredDatabase(config);
  const bound: BoundListener[] = [];
  try {
    await claimServerName(db, config.serverName);
    const rateLimiters = new RateLimiters(config.rateLimits, clock);
    const services = await createServices(opts, db, rateLimiters, clock);
    const { accounts } = services;
    const metrics = createMetrics(config, services, logger);
    const router = new Router(buildRoutes(opts, services));
    const edge = {
      router,
      authenticate: accountAuthenticator(accounts),
      authenticateServer: async (request: Parameters<FederationServices['authenticateRequest']>[0]) => {
        const origin = await services.federation.authenticateRequest(request);
        // A server that talks to us is up: whatever we queued for it goes now.
        void services.roomFederation.sender.peerIsUp(origin).catch((err: unknown) => logger.warn({ err, origin }, 'could not resume the queue of a server'));
        return origin;
      },
      rateLimiters,
      logger,
      maxUploadSize: config.maxUploadSize,
      requests: metrics,
    };
    const inFlight = new InFlightRequests();
    for (const listener of config.listeners) {
      if (listener.type === 'metrics') {
        if (metrics) bound.push(...(await bindListener(listener, metricsRequestListener(metrics, logger), undefined, logger)));
        continue;
      }
      if (listener.type !== 'http') {
        logger.warn({ port: listener.port, type: listener.type }, `listener type '${listener.type}' is not supported yet; skipping it`);
        continue;
      }
      const handler = createRequestListener(edge, { resources: listener.resources.flatMap((r) => r.names), xForwarded: listener.xForwarded }, inFlight);
      bound.push(...(await bindListener(listener, handler, listener.tls ? tls : undefined, logger)));
    }
    for (const b of bound) logger.info({ address: b.address, port: b.port, tls: b.tls, type: b.type }, 'listening');
    await services.roomFederation.sender.start();
    return {
      listeners: bound.map(({ address, port, tls: isTls, type }) => ({ address, port, tls: isTls, type })),
      config,
      db,
      rateLimiters,
      accounts,
      services,
      reload: (next) => {
        const tlsListeners = bound.filter((b) => b.tls);
        if (tlsListeners.length > 0) {
          const files = loadTlsFiles(next);
          if (!files) throw new StartupError(`${next.configPath}: no listener has tls: true any more; listeners change only on restart`);
          try {
            for (const b of tlsListeners) replaceCertificate(b, files);
          } catch (err) {
            throw new StartupError(`${next.configPath}: the new TLS certificate and key cannot be used: ${(err as Error).message}`);
          }
        }
        logger.level = next.logLevel ?? DEFAULT_LOG_LEVEL;
      },
      close: async () => {
        services.notifier.close();
        services.push.stop();
        services.media.wakeAll();
        await Promise.all(bound.map((b) => closeServer(b.server)));
        // A handler whose client hung up may still be working: let it finish.
        await inFlight.drain();
        await services.roomTasks.stop();
        await services.edus.stop();
        await services.roomFederation.sender.stop();
        await services.roomFederation.stopWorkers();
        services.federation.close();
        await db.close();
      },
    };
  } catch (err) {
    await Promise.all(bound.map((b) => closeServer(b.server)));
    await db.close();
    throw err;
  }
}

/**
 * Prometheus metrics, when enable_metrics is true and a listener of type
 * metrics serves them (Synapse's pairing); otherwise nothing is counted.
 */
function createMetrics(config: HomeserverConfig, services: HomeserverServices, logger: Logger): HomeserverMetrics | undefined {
  const listener = config.listeners.find((l) => l.type === 'metrics');
  // Synapse also serves metrics on an http listener listing the metrics resource; Axon keeps them off those.
  const asResource = config.listeners.find((l) => l.type === 'http' && l.resources.some((r) => r.names.includes('metrics')));
  if (asResource) {
    logger.warn({ port: asResource.port }, "the metrics resource of an http listener is not served; Axon serves metrics only on a listener of type: metrics (with enable_metrics: true)");
  }
  if (!config.enableMetrics) {
    if (listener) logger.warn({ port: listener.port }, 'a listener of type metrics is configured but enable_metrics is not true; metrics are not served');
    return undefined;
  }
  if (!listener) {
    logger.warn('enable_metrics is true but no listener has type: metrics; add one (e.g. port 9000 on 127.0.0.1) to serve /_synapse/metrics');
    return undefined;
  }
  const metrics = new HomeserverMetrics({
    syncWaiters: () => services.notifier.waiterCount,
    federationQueue: () => services.roomFederation.sender.queued(),
    databasePool: () => services.db.poolStats(),
  });
  services.pipeline.observeCommits((seconds, events) => metrics.observeCommit(seconds, events));
  return metrics;
}

/**
 * Every service of the homeserver, built once per start. Each area adds its
 * service here and its routes in `buildRoutes`; nothing else wires things.
 */
export interface HomeserverServices {
  config: HomeserverConfig;
  db: Database;
  clock: () => number;
  rateLimiters: RateLimiters;
  /** Wakes long-polling /sync when a stream moves. */
  notifier: Notifier;
  roomStore: RoomStore;
  accounts: AccountServices;
  /** Every local event goes through here (build, auth, persist, notify). */
  pipeline: EventPipeline;
  rooms: RoomService;
  /** Invites by e-mail address or phone number, through identity servers, and their completion. */
  thirdPartyInvites: ThirdPartyInviteService;
  /** Room work that follows a request without holding it up: member events after a profile change, guests leaving. */
  roomTasks: BackgroundTasks;
  /** Stored events → the Client-Server API's ClientEvent format. */
  clientEvents: ClientEventFormatter;
  roomStateReader: RoomStateReader;
  /** History visibility: which events a user may see (every read path filters through it). */
  visibility: HistoryVisibility;
  /** /messages, /context, /event, members. */
  timeline: TimelineService;
  /** Relations, threads and bundled aggregations. */
  relations: RelationService;
  upgrader: RoomUpgrader;
  /** Account data, tags, filters, typing, receipts, read markers, presence. */
  userData: UserDataServices;
  /** Push rules, notification counts, pushers and gateway delivery, OpenID tokens. */
  push: PushServices;
  notificationList: NotificationList;
  /** Uploads, downloads, thumbnails and URL previews. */
  media: MediaRepository;
  /** /sync, sliding sync and the legacy /events and /initialSync. */
  sync: SyncService;
  /** Simplified sliding sync (MSC4186), for Element X. */
  slidingSync: SlidingSyncService;
  /** Room aliases, the public room directory, the user directory, search and content reports. */
  discovery: DiscoveryServices;
  /** Device and one-time keys, cross-signing, to-device, device lists, key backup, dehydrated devices. */
  e2ee: E2eeServices;
  /** The Server-Server API's transport: signed client, key ring, discovery, inbound authentication. */
  federation: FederationServices;
  /** Rooms across servers: received events, room queries, membership handshakes, transactions, the outbound queue. */
  roomFederation: RoomFederation & { memberships: MembershipServer };
  /** EDUs both ways: typing, receipts, presence, to-device, device lists and cross-signing keys of users across servers. */
  edus: EduFederation;
  /** Synapse's room admin API: list, inspect, block, delete and purge rooms. */
  roomAdministration: RoomAdministration;
  /** The admin console's status page: version, uptime, database, counts. */
  serverStatus: ServerStatusService;
  /** Synapse's media admin API: a user's media, quarantine, deletion. */
  mediaAdministration: MediaAdministration;
}

/** An identity server that takes longer than this to answer is reported as unreachable. */
const IDENTITY_SERVER_TIMEOUT_MS = 30_000;

async function createServices(opts: StartOptions, db: Database, rateLimiters: RateLimiters, clock: () => number): Promise<HomeserverServices> {
  const { config } = opts;
  const notifier = new Notifier();
  const roomStore = new RoomStore(db);
  notifier.setPosition('events', await roomStore.events.maxStreamPosition());
  const federation = startFederation(opts, db, clock);
  const log = (message: string, fields?: Record<string, unknown>) => opts.logger.warn(fields ?? {}, message);
  const remoteQueries = new RemoteQueries({ client: federation.client, serverName: config.serverName, clock, log });
  if (config.insecureClientTls) {
    opts.logger.warn(
      'use_insecure_ssl_client_just_for_testing_do_not_use is true: certificates of identity servers and push gateways are NOT checked. ' +
        'Only for test suites; trust a private CA with NODE_EXTRA_CA_CERTS instead.',
    );
  }
  const identityServers = new IdentityServerClient({
    // Identity servers are named by clients: the same IP ranges as push gateways (Synapse: as federation's).
    request: guardedJsonRequester(new AddressPolicy(config.ipRangeBlacklist, config.ipRangeWhitelist), IDENTITY_SERVER_TIMEOUT_MS, {
      extraCas: opts.identityServerCas,
      insecure: config.insecureClientTls,
    }),
    serverName: config.serverName,
    signingKey: opts.signingKeys[0]!,
  });
  const accounts = createAccountServices(db, config, {
    now: clock,
    remoteProfiles: remoteQueries,
    identity: identityServers,
    onUnbindFailure: (err, userId) => opts.logger.warn({ err, userId }, 'could not unbind a deactivated user\'s third-party identifier'),
  });
  const pipeline = new EventPipeline({
    db,
    serverName: config.serverName,
    signingKey: opts.signingKeys[0]!,
    store: roomStore,
    notifier,
    clock,
    onError: (err, context) => opts.logger.error({ err }, context),
  });
  pipeline.beforeSend(suspendedSenderCheck((userId) => accounts.administration.isSuspended(userId), roomStore.events));
  const roomFederationSetup = {
    transport: federation,
    db,
    store: roomStore,
    pipeline,
    serverName: config.serverName,
    signingKey: opts.signingKeys[0]!,
    clock,
    log,
    erasedAmong: (userIds: Iterable<string>) => accounts.context.stores.users.erasedAmong(userIds),
  };
  const roomFederation = createRoomFederation(roomFederationSetup);
  const roomAdminStore = new RoomAdminStore(db);
  const rooms = new RoomService({
    isBlocked: async (roomId) => (await roomAdminStore.blockedBy(roomId)) !== undefined,
    serverName: config.serverName,
    defaultRoomVersion: config.defaultRoomVersion,
    store: roomStore,
    pipeline,
    profiles: accounts.profiles,
    clock,
    allowPerRoomProfiles: config.allowPerRoomProfiles ?? true,
    isGuest: async (userId) => (await accounts.context.stores.users.get(userId))?.isGuest ?? false,
    remote: roomFederation.remote,
  });
  const thirdPartyInvites = new ThirdPartyInviteService({
    serverName: config.serverName,
    rooms,
    pipeline,
    identity: identityServers,
    remote: roomFederation.remote,
    throttle: (userId) => rateLimiters.thirdPartyInvite.enforce(userId),
  });
  const roomTasks = new BackgroundTasks(log);
  const memberProfiles = new MemberProfileUpdates(rooms, roomTasks, log);
  accounts.events.on('profileChanged', ({ userId }) => memberProfiles.profileChanged(userId));
  pipeline.onPersisted(async (event, room) => {
    if (event.type === 'm.room.guest_access' && event.state_key === '' && event.content.guest_access !== 'can_join') {
      roomTasks.run(`removing the guests of ${room.roomId}`, () => rooms.evictGuests(room.roomId));
    }
  });
  const memberships = serveMemberships(roomFederation, roomFederationSetup, rooms);
  const userData = await createUserDataServices({ db, accountDataStore: accounts.context.stores.accountData, roomStore, notifier, clock, presenceEnabled: config.presence?.enabled ?? true });
  const visibility = new HistoryVisibility({
    store: roomStore,
    ignoredUsers: (userId) => userData.accountData.ignoredUsers(userId),
    erasedAmong: (userIds) => accounts.context.stores.users.erasedAmong(userIds),
  });
  const timeline = new TimelineService(roomStore, visibility, (roomId) => roomFederation.backfill(roomId));
  const relations = new RelationService({ store: roomStore, relations: new RelationStore(db), visibility });
  pipeline.onPersisting((event, _room, streamOrdering) => relations.recordRelation(event, streamOrdering));
  pipeline.onPersisting((event, room) => applyRedaction(roomStore, event, room));
  const clientEvents = new ClientEventFormatter(roomStore, clock, relations);
  const roomStateReader = new RoomStateReader(roomStore);
  const media = new MediaRepository(db, config, clock, new FederationMediaSource(federation.client));
  const push = createPushServices({ db, config, accountData: accounts.context.stores.accountData, accountEvents: accounts.events, notifier, events: roomStore.events, clock, onError: (err, context) => opts.logger.error({ err }, context) });
  pipeline.onPersisting((event, room, streamOrdering) => push.evaluator.onEventPersisted(event, room, streamOrdering));
  pipeline.onOutOfRoomMembership((event, rules, stripped, streamOrdering) => push.evaluator.onOutOfRoomMembership(event, rules, stripped, streamOrdering));
  const upgrader = new RoomUpgrader({ serverName: config.serverName, store: roomStore, pipeline, rooms, userData: [push.rules, userData.accountData], clock, log });
  rooms.afterRemoteJoin((roomId) =>
    upgrader.joinedRemoteRoom(roomId).catch((err: unknown) => log('could not carry an upgraded room\'s records over to its replacement', { err, roomId })),
  );
  userData.receipts.onRead((userId, roomId, upTo, threadId) => push.evaluator.resetCounts(userId, roomId, upTo, threadId));
  const remoteE2ee = createRemoteE2ee({ db, client: federation.client, sender: roomFederation.sender, serverName: config.serverName, clock, log: roomFederationSetup.log });
  const e2ee = await createE2eeServices({
    db,
    serverName: config.serverName,
    accounts,
    memberships: roomStore.memberships,
    events: roomStore.events,
    notifier,
    clock,
    log: (msg, fields) => opts.logger.warn(fields, msg),
    remote: remoteE2ee,
  });
  pipeline.onPersisted((event) => e2ee.onEventPersisted(event));
  const edus = serveEdus({
    db,
    serverName: config.serverName,
    clock,
    log: roomFederationSetup.log,
    transactions: roomFederation.transactions,
    sender: roomFederation.sender,
    remote: remoteE2ee,
    roomStore,
    pipeline,
    userData,
    e2ee,
    shareDeviceNames: config.allowDeviceNameLookupOverFederation ?? false,
  });
  const sync = new SyncService({ store: roomStore, notifier, formatter: clientEvents, accountDataStore: accounts.context.stores.accountData, ...userData, notifications: push.stores.notifications, visibility, encryption: e2ee, clock });
  const slidingSync = new SlidingSyncService({ store: roomStore, notifier, sync, serializer: sync.serializer, accountDataStore: accounts.context.stores.accountData, ...userData, notifications: push.stores.notifications, encryption: e2ee, clock });
  const discovery = createDiscoveryServices({ db, config, clock, roomStore, rooms, pipeline, formatter: clientEvents, profiles: accounts.context.stores.profiles, users: accounts.context.stores.users, accountEvents: accounts.events, visibility: (userId, events) => visibility.filterVisible(userId, events), remote: remoteQueries, remoteAliases: roomFederation.remote });
  const notificationList = new NotificationList({ notifications: push.stores.notifications, events: roomStore.events, visibility });
  const roomAdministration = new RoomAdministration({
    serverName: config.serverName,
    store: roomStore,
    admin: roomAdminStore,
    purges: new RoomPurgeStore(db),
    pipeline,
    rooms,
    formatter: clientEvents,
    onError: (err, context) => opts.logger.error({ err }, context),
    accountExists: (userId) => accounts.context.stores.users.exists(userId),
    tasks: roomTasks,
  });
  const serverStatus = new ServerStatusService({
    serverName: config.serverName,
    version: axonVersion(),
    databaseEngine: db.engine,
    clock,
    countUsers: () => accounts.context.stores.users.countActive(),
    countRooms: () => roomStore.rooms.count(),
  });
  const mediaAdministration = new MediaAdministration({
    db,
    serverName: config.serverName,
    mediaStorePath: config.mediaStorePath,
    userExists: (userId) => accounts.context.stores.users.exists(userId),
    mediaInRoom: (roomId) => roomAdministration.mediaInRoom(roomId),
  });
  return { config, db, clock, rateLimiters, notifier, roomStore, accounts, pipeline, rooms, thirdPartyInvites, roomTasks, clientEvents, roomStateReader, visibility, timeline, relations, upgrader, userData, media, push, notificationList, sync, slidingSync, discovery, e2ee, federation, roomFederation: { ...roomFederation, memberships }, edus, roomAdministration, serverStatus, mediaAdministration };
}

function startFederation(opts: StartOptions, db: Database, clock: () => number): FederationServices {
  try {
    return createFederation({
      config: opts.config,
      signingKeys: opts.signingKeys,
      db,
      clock,
      logger: opts.logger,
      userAgent: `Axon/${axonVersion()}`,
      tuning: opts.federationTuning,
    });
  } catch (err) {
    // A CA file that was fine when the config was loaded may have gone since.
    if (err instanceof CaFileError) throw new StartupError(`${opts.config.configPath}: federation_custom_ca_list: ${err.message}`);
    throw err;
  }
}

function buildRoutes(opts: StartOptions, services: HomeserverServices): Route[] {
  const { config } = opts;
  const { accounts, rateLimiters, clock } = services;
  return [
    ...accountRoutes({ services: accounts, rateLimiters }),
    ...roomRoutes(services.rooms, services.thirdPartyInvites),
    ...roomEventRoutes({ rooms: services.rooms, stateReader: services.roomStateReader, formatter: services.clientEvents }),
    ...messageRoutes({ timeline: services.timeline, formatter: services.clientEvents }),
    ...relationRoutes({ relations: services.relations, formatter: services.clientEvents }),
    ...upgradeRoutes(services.upgrader),
    ...userDataRoutes(services.userData),
    ...syncRoutes({ sync: services.sync, filters: services.userData.filters }),
    ...slidingSyncRoutes(services.slidingSync),
    ...legacyEventRoutes(new LegacySyncService(services.sync, services.roomStore, services.visibility, services.userData.presence, services.userData.receipts)),
    ...pushRulesRoutes(services.push.rules),
    ...pusherRoutes(services.push.pushers, clock),
    ...notificationRoutes({ notifications: services.notificationList, formatter: services.clientEvents }),
    ...openIdRoutes(services.push.openId),
    ...voipRoutes(config.turn, clock),
    ...thirdPartyRoutes(),
    ...appserviceRoutes(),
    ...directoryRoutes(services.discovery.aliases),
    ...hierarchyRoutes(services.discovery.hierarchy),
    ...roomSummaryRoutes(services.discovery.roomSummaries),
    ...mutualRoomsRoutes(new MutualRoomsService(services.roomStore.memberships)),
    ...publicRoomRoutes(services.discovery.publicRooms, { allowWithoutAuth: config.allowPublicRoomsWithoutAuth ?? false }),
    ...userDirectoryRoutes(services.discovery.userDirectory),
    ...searchRoutes(services.discovery.search),
    ...reportRoutes(services.discovery.reports),
    ...keyRoutes(services.e2ee),
    ...toDeviceRoutes(services.e2ee),
    ...roomKeyRoutes(services.e2ee),
    ...dehydratedDeviceRoutes(services.e2ee),
    // uk.tcpip.msc4133.stable: the custom profile fields (v1.16) are served at
    // their stable /v3/profile paths; clients that gate them on v1.16, as
    // matrix-js-sdk does, find them through this flag.
    ...versionsRoutes({ unstableFeatures: { [SLIDING_SYNC_UNSTABLE_FEATURE]: true, 'org.matrix.msc3814': true, 'uk.tcpip.msc4133.stable': true } }),
    ...mediaUploadRoutes(services.media),
    ...mediaDownloadRoutes(services.media),
    ...wellKnownRoutes({ publicBaseUrl: config.publicBaseUrl, serveServerWellknown: config.serveServerWellknown, support: config.support }),
    ...serverKeyRoutes({ serverName: config.serverName, signingKeys: opts.signingKeys, keyRing: services.federation.keyRing, clock }),
    ...federationVersionRoutes(),
    ...rootPageRoutes({ serverName: config.serverName, publicBaseUrl: config.publicBaseUrl, version: axonVersion() }),
    ...serverVersionRoutes(axonVersion()),
    ...roomAdminRoutes(services.roomAdministration),
    ...serverStatusRoutes(services.serverStatus),
    ...mediaAdminRoutes(services.mediaAdministration),
    ...adminConsoleRoutes(),
    ...federationQueryRoutes({ serverName: config.serverName, profiles: accounts.profiles, rooms: services.roomFederation.queries }),
    ...federationEventRoutes(services.roomFederation.queries),
    ...federationMembershipRoutes(services.roomFederation.memberships),
    ...federationThirdPartyInviteRoutes(services.thirdPartyInvites),
    ...federationTransactionRoutes(services.roomFederation.transactions),
    ...federationPublicRoomRoutes(services.discovery.publicRooms, { allowed: config.allowPublicRoomsOverFederation ?? false }),
    ...federationHierarchyRoutes(services.discovery.hierarchy),
    ...federationMediaRoutes(services.media),
    ...federationUserKeyRoutes({
      serverName: config.serverName,
      keys: services.e2ee.keys,
      devices: services.edus.localDevices,
      shareDisplayNames: config.allowDeviceNameLookupOverFederation ?? false,
    }),
    ...federationAdminRoutes({ serverName: config.serverName, destinations: services.roomFederation.destinations, transport: services.federation, clock }),
  ];
}

async function openConfiguredDatabase(config: HomeserverConfig): Promise<Database> {
  try {
    return await openDatabase(config.database);
  } catch (err) {
    const where = config.database.engine === 'sqlite' ? config.database.path : `${config.database.host}:${config.database.port}/${config.database.database}`;
    throw new StartupError(`cannot open the ${config.database.engine} database at ${where}: ${(err as Error).message}`);
  }
}

/**
 * User IDs, room IDs and signatures all embed the server name, so a database
 * serves one name for life: record it on first start and refuse any other.
 */
async function claimServerName(db: Database, serverName: string): Promise<void> {
  await db.execute('INSERT INTO server_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', ['server_name', serverName]);
  const row = await db.queryOne<{ value: string }>('SELECT value FROM server_meta WHERE key = ?', ['server_name']);
  const stored = row?.value;
  if (stored !== serverName) {
    throw new StartupError(
      `this database belongs to server_name '${stored}', but homeserver.yaml says '${serverName}'; ` +
        `the server name cannot change once users and rooms exist — restore server_name: ${stored} or point database at a new database`,
    );
  }
}

function loadTlsFiles(config: HomeserverConfig): TlsFiles | undefined {
  const tlsListener = config.listeners.find((l) => l.type === 'http' && l.tls);
  if (!tlsListener) return undefined;
  const read = (path: string | undefined, key: string): Buffer => {
    if (!path) throw new StartupError(`${config.configPath}: the listener on port ${tlsListener.port} has tls: true but ${key} is not set`);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new StartupError(`${config.configPath}: cannot read ${key} ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: read(config.tlsCertificatePath, 'tls_certificate_path'), key: read(config.tlsPrivateKeyPath, 'tls_private_key_path') };
}

/** A bound address of a configured listener. */
type BoundListener = BoundServer & { type: string };

/** Binds every address of a listener. */
async function bindListener(
  listener: ListenerConfig,
  handler: Parameters<typeof listen>[0],
  tls: TlsFiles | undefined,
  logger: Logger,
): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const address of listener.bindAddresses) {
      try {
        bound.push({ ...(await listen(handler, address, listener.port, tls)), type: listener.type });
      } catch (err) {
        // On Linux '::' also takes IPv4, so the default ['::', '0.0.0.0']
        // finds 0.0.0.0 taken by ourselves; Synapse carries on in that case too.
        const code = (err as NodeJS.ErrnoException).code;
        if (address === '0.0.0.0' && code === 'EADDRINUSE' && bound.some((b) => b.address === '::')) {
          logger.info({ port: listener.port }, 'listening on [::] covers 0.0.0.0 too');
          continue;
        }
        throw new StartupError(`cannot listen on ${address}:${listener.port}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    await Promise.all(bound.map((b) => closeServer(b.server)));
    throw err;
  }
  return bound;
}
