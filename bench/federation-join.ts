// Federation join benchmark: a user of hs2 joins, over federation, a room of
// hs1 with 1,000 members and 10,000 state events. Prints the time the join
// request takes (make_join, send_join, checking every event of the state and
// auth chain, storing them) and the joining server's peak resident memory.
// Both servers run in processes of their own over verified TLS.
//
//   node --import tsx bench/federation-join.ts [sqlite|postgres] [--members 1000] [--state 10000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Engine } from '../src/storage/database.js';
import { call, registerUser } from '../test/helpers/client.js';
import { freePort } from '../test/helpers/homeserver.js';
import { createTestCa, writeCertificate } from '../test/helpers/tls.js';
import type { ServerPlan } from './federated-server-process.js';

const engine = (process.argv.find((a) => a === 'sqlite' || a === 'postgres') ?? 'sqlite') as Engine;
const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const members = flag('--members', 1000);
const stateEvents = flag('--state', 10_000);

const dir = mkdtempSync(join(tmpdir(), 'axon-bench-fed-'));
const ca = await createTestCa();
const caPath = writeCertificate(dir, 'ca', ca).certPath;
const plans: ServerPlan[] = [];
for (const [i, name] of ['hs1.bench', 'hs2.bench'].entries()) {
  const address = `127.0.0.${i + 1}`;
  const { certPath, keyPath } = writeCertificate(dir, name, await ca.issue([name, address]));
  plans.push({ name, address, port: await freePort(address), clientPort: await freePort(address), dir: join(dir, name), engine, certPath, keyPath, caPath, hosts: {} });
}
for (const plan of plans) plan.hosts = Object.fromEntries(plans.map((p) => [p.name, { host: p.address, port: p.port }]));
plans[0]!.bigRoom = { members, stateEvents };

const children: ChildProcess[] = [];
async function startServer(plan: ServerPlan): Promise<{ clientUrl: string; roomId?: string; pid: number }> {
  // AXON_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers (Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.AXON_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', new URL('./federated-server-process.ts', import.meta.url).pathname, JSON.stringify(plan)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  return { ...(JSON.parse(line.value as string) as { clientUrl: string; roomId?: string }), pid: child.pid! };
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

try {
  const setupStarted = performance.now();
  const [hs1, hs2] = await Promise.all(plans.map(startServer));
  console.log(`set-up: ${members} members, ${stateEvents} state events on hs1 (${engine}) in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);
  const bob = await registerUser(hs2!.clientUrl, 'bob');
  const before = rssMiB(hs2!.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(hs2!.pid))), 20);
  const started = performance.now();
  const res = await call(hs2!.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(hs1!.roomId!)}?via=hs1.bench`, {}, bob.accessToken);
  const joinMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(hs2!.pid));
  if (res.status !== 200) throw new Error(`join failed: ${res.status} ${JSON.stringify(res.body)}`);
  const syncStarted = performance.now();
  const sync = await call(hs2!.clientUrl, 'GET', '/_matrix/client/v3/sync', undefined, bob.accessToken);
  const syncMs = performance.now() - syncStarted;
  if (sync.status !== 200) throw new Error(`sync failed: ${sync.status}`);
  console.log(`join over federation: ${(joinMs / 1000).toFixed(2)} s`);
  console.log(`joining server RSS: ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak during the join`);
  console.log(`first /sync of the joined user on hs2: ${(syncMs / 1000).toFixed(2)} s`);
} finally {
  for (const child of children) child.stdin?.end();
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  rmSync(dir, { recursive: true, force: true });
}
