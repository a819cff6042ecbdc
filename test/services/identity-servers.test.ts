// The identity-server client (identity-service-api.md) against answers
// given in the test: which lookup algorithm it picks, what it keeps of a
// /store-invite answer, how it signs /3pid/unbind and reads its refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MatrixError } from '../../src/core/errors.js';
import { generateSigningKey, verifyJsonSignature } from '../../src/core/signing.js';
import type { JsonObject, JsonValue } from '../../src/core/types.js';
import { parseXMatrix } from '../../src/core/x-matrix.js';
import { IdentityServerClient } from '../../src/services/identity-servers.js';
import type { OutboundJsonRequest } from '../../src/services/outbound-http.js';

const KEY = generateSigningKey('a');

/** A client whose identity server answers each path as `answers` says, recording the requests. */
function client(answers: Record<string, { status: number; body: JsonValue }>) {
  const requests: OutboundJsonRequest[] = [];
  const ids = new IdentityServerClient({
    serverName: 'hs.example',
    signingKey: KEY,
    request: async (request) => {
      requests.push(request);
      const answer = answers[new URL(request.url).pathname];
      if (!answer) throw new Error(`connect ECONNREFUSED for ${request.url}`);
      return answer;
    },
  });
  return { ids, requests };
}

describe('identity-server client', () => {
  test('lookup hashes "address medium pepper" with sha256 when offered, and sends plain "address medium" when only none is', async () => {
    const hash = createHash('sha256').update('a@b.c email pep').digest('base64url');
    const sha = client({
      '/_matrix/identity/v2/hash_details': { status: 200, body: { algorithms: ['none', 'sha256'], lookup_pepper: 'pep' } },
      '/_matrix/identity/v2/lookup': { status: 200, body: { mappings: { [hash]: '@bound:hs.example' } } },
    });
    assert.equal(await sha.ids.lookup('id.example', 'tok', 'email', 'a@b.c'), '@bound:hs.example');
    assert.deepEqual(sha.requests[1]!.body, { addresses: [hash], algorithm: 'sha256', pepper: 'pep' });
    assert.deepEqual(sha.requests[1]!.headers, { Authorization: 'Bearer tok' });
    assert.equal(sha.requests[0]!.url, 'https://id.example/_matrix/identity/v2/hash_details');

    const plain = client({
      '/_matrix/identity/v2/hash_details': { status: 200, body: { algorithms: ['none'], lookup_pepper: 'pep' } },
      '/_matrix/identity/v2/lookup': { status: 200, body: { mappings: {} } },
    });
    assert.equal(await plain.ids.lookup('id.example', 'tok', 'email', 'a@b.c'), undefined);
    assert.deepEqual(plain.requests[1]!.body, { addresses: ['a@b.c email'], algorithm: 'none', pepper: 'pep' });

    const neither = client({ '/_matrix/identity/v2/hash_details': { status: 200, body: { algorithms: ['md5'], lookup_pepper: 'pep' } } });
    await assert.rejects(neither.ids.lookup('id.example', 'tok', 'email', 'a@b.c'), /offers no lookup algorithm this server supports/);
  });

  test('store-invite keeps public_keys, and the single public_key as the fallback with the v2 isvalid URL', async () => {
    const { ids } = client({
      '/_matrix/identity/v2/store-invite': {
        status: 200,
        body: { token: 't1', display_name: 'b...@c', public_key: 'K1', public_keys: [{ public_key: 'K2', key_validity_url: 'https://id.example/other' }] },
      },
    });
    const stored = await ids.storeInvite('id.example', 'tok', 'email', 'b@c.d', { room_id: '!r:hs.example', sender: '@s:hs.example' });
    assert.deepEqual(stored, {
      token: 't1',
      displayName: 'b...@c',
      publicKeys: [{ public_key: 'K2', key_validity_url: 'https://id.example/other' }],
      fallback: { public_key: 'K1', key_validity_url: 'https://id.example/_matrix/identity/v2/pubkey/isvalid' },
    });
    const keyless = client({ '/_matrix/identity/v2/store-invite': { status: 200, body: { token: 't', display_name: 'x' } } });
    await assert.rejects(keyless.ids.storeInvite('id.example', 'tok', 'email', 'b@c.d', { room_id: '!r:hs.example', sender: '@s:hs.example' }), /sent no public key/);
  });

  test("unbind is signed by the homeserver's key over method, uri, origin, destination_is and content", async () => {
    const { ids, requests } = client({ '/_matrix/identity/v2/3pid/unbind': { status: 200, body: {} } });
    assert.equal(await ids.unbind('id.example:8090', '@u:hs.example', 'email', 'u@e.org'), true);
    const request = requests[0]!;
    const credentials = parseXMatrix(request.headers!['Authorization']!);
    assert.deepEqual([credentials.origin, credentials.key, credentials.destination], ['hs.example', 'ed25519:a', undefined]);
    const content = { mxid: '@u:hs.example', threepid: { medium: 'email', address: 'u@e.org' } };
    assert.deepEqual(request.body, content);
    const signed: JsonObject = {
      method: 'POST',
      uri: '/_matrix/identity/v2/3pid/unbind',
      origin: 'hs.example',
      destination_is: 'id.example:8090',
      content,
      signatures: { 'hs.example': { 'ed25519:a': credentials.sig } },
    };
    assert.equal(verifyJsonSignature(signed, 'hs.example', 'ed25519:a', KEY.publicKey), true);
  });

  test('unbind: 400, 404 and 501 mean no support; other refusals and unreachable servers are errors', async () => {
    for (const status of [400, 404, 501]) {
      const { ids } = client({ '/_matrix/identity/v2/3pid/unbind': { status, body: {} } });
      assert.equal(await ids.unbind('id.example', '@u:hs.example', 'email', 'u@e.org'), false, String(status));
    }
    const forbidden = client({ '/_matrix/identity/v2/3pid/unbind': { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no' } } });
    await assert.rejects(forbidden.ids.unbind('id.example', '@u:hs.example', 'email', 'u@e.org'), (err: MatrixError) => err.status === 403 && err.errcode === 'M_FORBIDDEN');
    const down = client({});
    await assert.rejects(down.ids.unbind('id.example', '@u:hs.example', 'email', 'u@e.org'), (err: MatrixError) => err.status === 502 && /Could not reach the identity server id.example/.test(err.message));
  });

  test('isvalid: only {"valid": true} vouches for a key; a URL that is not one is no vouching', async () => {
    const valid = client({ '/_matrix/identity/v2/pubkey/isvalid': { status: 200, body: { valid: true } } });
    assert.equal(await valid.ids.isKeyValid('https://id.example/_matrix/identity/v2/pubkey/isvalid', 'K+/1'), true);
    assert.equal(new URL(valid.requests[0]!.url).searchParams.get('public_key'), 'K+/1');
    const invalid = client({ '/_matrix/identity/v2/pubkey/isvalid': { status: 200, body: { valid: false } } });
    assert.equal(await invalid.ids.isKeyValid('https://id.example/_matrix/identity/v2/pubkey/isvalid', 'K'), false);
    assert.equal(await invalid.ids.isKeyValid('not a url', 'K'), false);
  });
});
