// Profile propagation benchmark: a user in many rooms changes their display
// name. Prints how long PUT /profile/{userId}/displayname takes to answer and
// how long until the new name is in the user's member event of every room
// (the member events are re-sent in the background, room after room). The
// homeserver runs in a child process (bench/homeserver-process.ts).
//
//   node --import tsx bench/profile-propagation.ts [sqlite|postgres] [--rooms 200]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { call, registerUser, type TestUser } from '../test/helpers/client.js';
import type { Engine } from '../src/storage/database.js';

const engine = (process.argv.find((a) => a === 'sqlite' || a === 'postgres') ?? 'sqlite') as Engine;
const roomsFlag = process.argv.indexOf('--rooms');
const roomCount = roomsFlag >= 0 ? Number(process.argv[roomsFlag + 1]) : 200;

const child = spawn(process.execPath, ['--import', 'tsx', new URL('./homeserver-process.ts', import.meta.url).pathname, engine], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const line = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
const baseUrl = (JSON.parse(line.value as string) as { baseUrl: string }).baseUrl;
const api = <T = Record<string, unknown>>(user: TestUser, method: string, path: string, body?: unknown) =>
  call<T>(baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);

try {
  const alice = await registerUser(baseUrl, 'alice');
  const bob = await registerUser(baseUrl, 'bob');
  const rooms: string[] = [];
  for (let i = 0; i < roomCount; i++) {
    const roomId = (await api(alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id as string;
    await api(bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    rooms.push(roomId);
  }
  console.log(`set-up: alice and bob share ${roomCount} rooms (${engine})`);

  const started = performance.now();
  const put = await api(alice, 'PUT', `/profile/${encodeURIComponent(alice.userId)}/displayname`, { displayname: 'Alice Renamed' });
  const answeredMs = performance.now() - started;
  if (put.status !== 200) throw new Error(`PUT displayname failed: ${put.status} ${JSON.stringify(put.body)}`);

  let pending = rooms;
  while (pending.length > 0) {
    const stale = await Promise.all(
      pending.map(async (roomId) => {
        const member = await api(alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(alice.userId)}`);
        return member.body.displayname === 'Alice Renamed' ? undefined : roomId;
      }),
    );
    pending = stale.filter((r): r is string => r !== undefined);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const allMs = performance.now() - started;
  console.log(`PUT displayname answered in ${answeredMs.toFixed(0)} ms`);
  console.log(`every room's member event updated after ${(allMs / 1000).toFixed(2)} s (${(allMs / roomCount).toFixed(1)} ms a room)`);
} finally {
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
}
