// EDUs both ways (server-server-api "EDUs" and the sections on typing,
// presence, receipts, device management, end-to-end encryption and
// send-to-device messaging): the local services' changes go out through
// the federation queue, and received EDUs feed the same services, so /sync,
// sliding sync and the legacy paths show them. Wired in two steps because
// the e2ee services need the remote key source and the to-device sink,
// while the EDU handlers need the e2ee services: `createRemoteE2ee` before
// them, `serveEdus` after.
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { Event } from '../../core/types.js';
import type { E2eeServices, RemoteToDeviceSink } from '../../services/e2ee/index.js';
import type { EventPipeline } from '../../services/rooms/event-pipeline.js';
import { previousMembership } from '../../services/rooms/previous-membership.js';
import type { UserDataServices } from '../../services/user-data/index.js';
import type { Database } from '../../storage/database.js';
import { KeyStore, RemoteDeviceStore } from '../../storage/e2ee/index.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { TransactionReceiver } from '../inbound/transactions.js';
import type { Edu, FederationSender } from '../outbound/sender.js';
import type { FederationRequester } from '../requester.js';
import { BackgroundTasks, type TaskLog } from '../../services/background-tasks.js';
import { LocalDeviceLists } from './local-device-lists.js';
import { PresenceFederation } from './presence.js';
import { ReceiptFederation } from './receipts.js';
import { parseDeviceListUpdate, parseSigningKeyUpdate, RemoteDeviceLists } from './remote-device-lists.js';
import { RoomPeers } from './room-peers.js';
import { toDeviceSender, ToDeviceReceiver } from './to-device.js';
import { TypingFederation } from './typing.js';

export interface RemoteE2eeSetup {
  db: Database;
  client: FederationRequester;
  sender: FederationSender;
  serverName: string;
  clock: () => number;
  log: TaskLog;
}

/** What the e2ee services take from federation: other servers' users' keys, and a way to their devices. */
export interface RemoteE2ee {
  keys: RemoteDeviceLists;
  toDevice: RemoteToDeviceSink;
}

export function createRemoteE2ee(setup: RemoteE2eeSetup): RemoteE2ee {
  const { db, sender } = setup;
  return {
    keys: new RemoteDeviceLists({ ...setup, store: new RemoteDeviceStore(db), keys: new KeyStore(db) }),
    toDevice: toDeviceSender((edu, destinations) => sender.queueEdu(edu, destinations)),
  };
}

export interface EduSetup {
  db: Database;
  serverName: string;
  clock: () => number;
  log: TaskLog;
  transactions: TransactionReceiver;
  sender: FederationSender;
  remote: RemoteE2ee;
  roomStore: RoomStore;
  pipeline: EventPipeline;
  userData: UserDataServices;
  e2ee: E2eeServices;
  /** allow_device_name_lookup_over_federation. */
  shareDeviceNames: boolean;
}

export interface EduFederation {
  /** Local users' device lists as other servers ask for them (GET /user/devices). */
  localDevices: LocalDeviceLists;
  /** Waits for EDU work under way (at shutdown). */
  stop(): Promise<void>;
}

export function serveEdus(setup: EduSetup): EduFederation {
  const { transactions, userData, e2ee, serverName, clock } = setup;
  const background = new BackgroundTasks(setup.log);
  const peers = new RoomPeers(setup.roomStore, serverName);
  const queueEdu = (edu: Edu, destinations: readonly string[]): Promise<void> => setup.sender.queueEdu(edu, destinations);
  const common = { peers, queueEdu, background, clock };

  const typing = new TypingFederation({ ...common, typing: userData.typing });
  const receipts = new ReceiptFederation({ ...common, receipts: userData.receipts });
  const presence = new PresenceFederation({ ...common, presence: userData.presence, memberships: setup.roomStore.memberships, serverName });
  const toDevice = new ToDeviceReceiver(e2ee.toDevice, background, clock);
  const localDevices = new LocalDeviceLists({
    keys: e2ee.keys,
    store: e2ee.stores.deviceLists,
    db: setup.db,
    peers,
    queueEdu,
    shareDisplayNames: setup.shareDeviceNames,
  });
  const remoteDevices = setup.remote.keys;
  e2ee.deviceLists.onLocalChange((change) => localDevices.onLocalChange(change));
  remoteDevices.onChanged((userId) => e2ee.deviceLists.keysChanged([userId]));

  transactions.onEdu('m.typing', (origin, content) => typing.receive(origin, content));
  transactions.onEdu('m.receipt', (origin, content) => receipts.receive(origin, content));
  transactions.onEdu('m.presence', (origin, content) => presence.receive(origin, content));
  transactions.onEdu('m.direct_to_device', (origin, content) => toDevice.receive(origin, content));
  // A list update may need a request back to the origin (a fetch): it is applied in the background, in order per user.
  transactions.onEdu('m.device_list_update', async (origin, content) => {
    const update = parseDeviceListUpdate(origin, content);
    background.run('applying a device list update', () => remoteDevices.applyUpdate(update));
  });
  transactions.onEdu('m.signing_key_update', async (origin, content) => {
    const { userId, keys } = parseSigningKeyUpdate(origin, content);
    background.run('applying a signing key update', () => remoteDevices.applySigningKeys(userId, keys));
  });

  const followMembership = async (event: Event): Promise<void> => {
    const userId = event.state_key!;
    const joined = event.content['membership'] === 'join';
    if (joined === ((await previousMembership(setup.roomStore.events, event)) === 'join')) return;
    const local = serverNameOfUserId(userId) === serverName;
    if (joined) {
      await presence.onJoin(event.room_id, userId);
      if (local) await localDevices.onLocalJoin(event.room_id, userId);
      return;
    }
    // Whoever no longer shares a room with this server stops being tracked, so a stale list is never trusted later.
    const gone = local ? (await setup.roomStore.memberships.membersOfRoom(event.room_id, 'join')).map((m) => m.userId) : [userId];
    await remoteDevices.forgetUnshared(gone);
  };
  setup.pipeline.onPersisted(async (event) => {
    if (event.type === 'm.room.member' && event.state_key !== undefined) background.run('following a membership change', () => followMembership(event));
  });

  return { localDevices, stop: () => background.stop() };
}
