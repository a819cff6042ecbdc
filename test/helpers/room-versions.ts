// Room behaviour is tested in room version 12 (the default for users: room
// IDs `!<hash>` without a server part, creators outside power levels) and in
// 10 (the test homeserver's default), on both database engines.
import { after, before, describe } from 'node:test';
import { ENGINES } from './databases.js';
import { startTestHomeserver, type TestHomeserver } from './homeserver.js';

export const ROOM_VERSIONS_UNDER_TEST = ['12', '10'] as const;

/**
 * One describe block per engine, each with its own homeserver (read it with
 * `server()` from a hook or test), holding one block per room version that
 * `body` fills with its hooks and tests.
 */
export function describeEngineAndRoomVersions(title: string, body: (server: () => TestHomeserver, version: string) => void): void {
  for (const engine of ENGINES) {
    describe(`${title} (${engine})`, () => {
      let hs: TestHomeserver | undefined;
      before(async () => {
        hs = await startTestHomeserver({ engine });
      });
      after(() => hs?.close());
      const server = (): TestHomeserver => {
        if (!hs) throw new Error('the homeserver starts in a before hook; call server() from a hook or test');
        return hs;
      };
      for (const version of ROOM_VERSIONS_UNDER_TEST) describe(`room version ${version}`, () => body(server, version));
    });
  }
}
