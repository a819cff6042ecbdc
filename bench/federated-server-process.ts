// One federating homeserver in a process of its own, for bench/federation-join.ts:
// reads its plan (server name, addresses, certificates, the other servers'
// federation_hosts) as JSON from argv, starts, optionally builds a big room
// through its own event pipeline (the set-up, not what is measured), prints
// one JSON line, and stops when stdin closes.
//
//   node --import tsx bench/federated-server-process.ts '<plan json>'
import pino from 'pino';
import type { HomeserverConfig } from '../src/config/types.js';
import { DEFAULT_IP_RANGE_BLACKLIST } from '../src/config/load.js';
import { generateSigningKey } from '../src/core/signing.js';
import { startHomeserver } from '../src/server.js';
import type { Engine } from '../src/storage/database.js';
import { createTestDatabaseTarget } from '../test/helpers/databases.js';
import { testHomeserverConfig } from '../test/helpers/homeserver.js';

export interface ServerPlan {
  name: string;
  address: string;
  port: number;
  clientPort: number;
  dir: string;
  engine: Engine;
  certPath: string;
  keyPath: string;
  caPath: string;
  hosts: Record<string, { host: string; port: number }>;
  /** Build a room with this many members and state events, created by @owner. */
  bigRoom?: { members: number; stateEvents: number };
}

const plan = JSON.parse(process.argv[2]!) as ServerPlan;
const database = await createTestDatabaseTarget(plan.engine);
const base = testHomeserverConfig({ dir: plan.dir, database: database.target, port: plan.port, serverName: plan.name });
const unthrottled = { perSecond: 1e9, burstCount: 1e9 };
const config: HomeserverConfig = {
  ...base,
  publicBaseUrl: `https://${plan.address}:${plan.port}/`,
  listeners: [
    { ...base.listeners[0]!, bindAddresses: [plan.address], tls: true },
    { ...base.listeners[0]!, port: plan.clientPort, bindAddresses: [plan.address], resources: [{ names: ['client'], compress: false }] },
  ],
  tlsCertificatePath: plan.certPath,
  tlsPrivateKeyPath: plan.keyPath,
  federationCustomCaList: [plan.caPath],
  federationHosts: plan.hosts,
  ipRangeBlacklist: [...DEFAULT_IP_RANGE_BLACKLIST],
  federationIpRangeBlacklist: [...DEFAULT_IP_RANGE_BLACKLIST],
  ipRangeWhitelist: ['127.0.0.0/8'],
  rateLimits: { message: unthrottled, registration: unthrottled, login: { address: unthrottled, account: unthrottled, failedAttempts: unthrottled }, thirdPartyInvite: unthrottled, other: {} },
};
const running = await startHomeserver({ config, signingKeys: [generateSigningKey()], logger: pino({ level: 'error' }, pino.destination(2)) });

let roomId: string | undefined;
if (plan.bigRoom) {
  const { rooms, pipeline } = running.services;
  const owner = `@owner:${plan.name}`;
  roomId = await rooms.createRoom(owner, { invite: [], creationContent: {}, initialState: [], preset: 'public_chat', isDirect: false });
  for (let i = 0; i < plan.bigRoom.members - 1; i++) {
    const user = `@member${i}:${plan.name}`;
    await pipeline.send(roomId, { type: 'm.room.member', sender: user, stateKey: user, content: { membership: 'join', displayname: `Member ${i}` } });
  }
  for (let i = plan.bigRoom.members; i < plan.bigRoom.stateEvents; i++) {
    await pipeline.send(roomId, { type: 'org.example.bench', sender: owner, stateKey: `key${i}`, content: { value: i } });
  }
}
process.stdout.write(`${JSON.stringify({ clientUrl: `http://${plan.address}:${plan.clientPort}`, roomId })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void running.close().then(() => database.destroy()).then(() => process.exit(0));
});
