// Synapse's legacy POST forms of sending and redacting (no transaction ID),
// which the spec dropped but older clients, scripts and SyTest still use:
// each POST sends a new event; the redaction redacts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`legacy POST send and redact (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    const api = (method: string, path: string, body?: unknown) => call<Json>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, alice.accessToken);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    for (const version of ['10', '12']) {
      test(`each POST sends an event, and POST /redact redacts (v${version})`, async () => {
        const roomId = (await api('POST', '/createRoom', { room_version: version })).body.room_id as string;
        const room = `/rooms/${encodeURIComponent(roomId)}`;
        const first = await api('POST', `${room}/send/m.room.message`, { msgtype: 'm.text', body: 'same' });
        const second = await api('POST', `${room}/send/m.room.message`, { msgtype: 'm.text', body: 'same' });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.notEqual(first.body.event_id, second.body.event_id, 'no transaction: two events');
        const redaction = await api('POST', `${room}/redact/${encodeURIComponent(first.body.event_id)}`, { reason: 'typo' });
        assert.equal(redaction.status, 200, JSON.stringify(redaction.body));
        const redacted = await api('GET', `${room}/event/${encodeURIComponent(first.body.event_id)}`);
        assert.deepEqual(redacted.body.content, {});
        assert.equal(redacted.body.unsigned.redacted_because.event_id, redaction.body.event_id);
      });
    }
  });
}
