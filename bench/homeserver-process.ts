// The homeserver side of bench/messaging.ts, in a process of its own (as it
// runs in production, with its own event loop and core): starts a test
// homeserver with rate limits lifted, prints its base URL as one JSON line,
// and stops (destroying its database) when stdin closes.
//
//   node --import tsx bench/homeserver-process.ts sqlite|postgres
import { startTestHomeserver } from '../test/helpers/homeserver.js';
import type { Engine } from '../src/storage/database.js';

const engine = (process.argv[2] ?? 'sqlite') as Engine;
const unthrottled = { perSecond: 1e9, burstCount: 1e9 };
const hs = await startTestHomeserver({
  engine,
  config: { rateLimits: { message: unthrottled, registration: unthrottled, login: { address: unthrottled, account: unthrottled, failedAttempts: unthrottled }, thirdPartyInvite: unthrottled, other: {} } },
});
process.stdout.write(`${JSON.stringify({ baseUrl: hs.baseUrl })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void hs.close().then(() => process.exit(0));
});
