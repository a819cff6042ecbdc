// Shared by the user-data HTTP tests: a room made through the room routes.
import assert from 'node:assert/strict';
import { call, type TestUser } from '../helpers/client.js';

export const V3 = '/_matrix/client/v3';
export const enc = encodeURIComponent;

export async function createRoom(baseUrl: string, owner: TestUser, invite: TestUser[] = []): Promise<string> {
  const res = await call(baseUrl, 'POST', `${V3}/createRoom`, { preset: 'private_chat' }, owner.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const roomId = res.body.room_id as string;
  for (const user of invite) {
    const inv = await call(baseUrl, 'POST', `${V3}/rooms/${enc(roomId)}/invite`, { user_id: user.userId }, owner.accessToken);
    assert.equal(inv.status, 200, JSON.stringify(inv.body));
    const join = await call(baseUrl, 'POST', `${V3}/rooms/${enc(roomId)}/join`, {}, user.accessToken);
    assert.equal(join.status, 200, JSON.stringify(join.body));
  }
  return roomId;
}

let txn = 0;
export async function sendMessage(baseUrl: string, user: TestUser, roomId: string, body = 'hi'): Promise<string> {
  const res = await call(baseUrl, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body }, user.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.event_id as string;
}
