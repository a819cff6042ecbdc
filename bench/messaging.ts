// Messaging benchmark: messages per second sent (1 and 16 concurrent
// senders), the time from a send to its arrival in another user's
// long-polling /sync (median and 99th percentile), and the time of an initial
// /sync for an account in many rooms. Prints its figures; not part of npm test.
// The homeserver runs in a child process (bench/homeserver-process.ts), as a
// client and a server do, so the client's work is not counted as the server's.
//
//   node --import tsx bench/messaging.ts [sqlite|postgres] [--rooms 1000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { call, registerUser, type TestUser } from '../test/helpers/client.js';
import type { Engine } from '../src/storage/database.js';

const engine = (process.argv.find((a) => a === 'sqlite' || a === 'postgres') ?? 'sqlite') as Engine;
const roomsFlag = process.argv.indexOf('--rooms');
const manyRooms = roomsFlag >= 0 ? Number(process.argv[roomsFlag + 1]) : 1000;

const child = spawn(process.execPath, ['--import', 'tsx', new URL('./homeserver-process.ts', import.meta.url).pathname, engine], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const [firstLine] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
const hs = { baseUrl: (JSON.parse(firstLine!) as { baseUrl: string }).baseUrl };

/** The server process's resident set, from /proc (Linux). */
function serverRssMiB(): number {
  const line = readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}
const api = <T = Record<string, unknown>>(user: TestUser, method: string, path: string, body?: unknown) =>
  call<T>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let txn = 0;
async function send(user: TestUser, roomId: string, body: string): Promise<string> {
  const res = await api(user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${txn++}`, { msgtype: 'm.text', body });
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.event_id as string;
}

async function throughput(senders: TestUser[], roomId: string, perSender: number): Promise<number> {
  const started = performance.now();
  await Promise.all(senders.map(async (u) => {
    for (let i = 0; i < perSender; i++) await send(u, roomId, `message ${i}`);
  }));
  return (senders.length * perSender) / ((performance.now() - started) / 1000);
}

try {
  const alice = await registerUser(hs.baseUrl, 'alice');
  const bob = await registerUser(hs.baseUrl, 'bob');
  const roomId = (await api(alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id as string;
  await api(bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});

  const others = await Promise.all(Array.from({ length: 15 }, (_, i) => registerUser(hs.baseUrl, `sender${i}`)));
  for (const u of others) await api(u, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  await throughput([alice], roomId, 50); // warm-up
  const one = await throughput([alice], roomId, 500);
  const sixteen = await throughput([alice, ...others], roomId, 60);
  console.log(`engine: ${engine}`);
  console.log(`send throughput, 1 sender:   ${one.toFixed(0)} messages/s`);
  console.log(`send throughput, 16 senders: ${sixteen.toFixed(0)} messages/s (one room)`);

  // Delivery latency: Bob long-polls; Alice sends; time until Bob's /sync returns it.
  let since = ((await api(bob, 'GET', '/sync?timeout=0')).body.next_batch as string);
  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const poll = api<{ next_batch: string; rooms?: { join?: Record<string, { timeline: { events: Array<{ event_id: string }> } }> } }>(
      bob, 'GET', `/sync?timeout=30000&since=${encodeURIComponent(since)}`,
    );
    await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    const eventId = await send(alice, roomId, `latency ${i}`);
    let res = await poll;
    while (!res.body.rooms?.join?.[roomId]?.timeline.events.some((e) => e.event_id === eventId)) {
      since = res.body.next_batch;
      res = await api(bob, 'GET', `/sync?timeout=30000&since=${encodeURIComponent(since)}`);
    }
    latencies.push(performance.now() - started);
    since = res.body.next_batch;
  }
  latencies.sort((a, b) => a - b);
  console.log(`send → other user's /sync: median ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (200 messages, loopback)`);

  // Initial sync of an account in many rooms.
  const busy = await registerUser(hs.baseUrl, 'busy');
  const createStart = performance.now();
  for (let i = 0; i < manyRooms; i++) await api(busy, 'POST', '/createRoom', { name: `room ${i}` });
  const createSeconds = (performance.now() - createStart) / 1000;
  const syncStart = performance.now();
  const initial = await api<{ rooms: { join: Record<string, unknown> } }>(busy, 'GET', '/sync');
  const syncMs = performance.now() - syncStart;
  const count = Object.keys(initial.body.rooms?.join ?? {}).length;
  console.log(`createRoom: ${(manyRooms / createSeconds).toFixed(0)} rooms/s`);
  console.log(`initial /sync of an account in ${count} rooms: ${syncMs.toFixed(0)} ms`);
  console.log(`server RSS after run: ${serverRssMiB().toFixed(0)} MiB`);
} finally {
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
}
