// Media across servers: a user of one server downloads (and thumbnails)
// media uploaded to another, over the authenticated federation endpoint;
// the second download comes from the local cache. A stand-in older server
// answers the federation endpoint "unrecognised" and is asked on the legacy
// path with allow_remote=false; another part of it redirects with Location
// or sends too much. The federation endpoints' multipart answers are
// checked as another server reads them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { multipartBoundary, multipartFraming, parseMultipart } from '../../src/core/multipart.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startFederation, type FederatedServer, type Federation } from '../helpers/federation.js';
import { createTestCa, type TestCertificate } from '../helpers/tls.js';

type Json = Record<string, unknown>;

const OLD_ADDRESS = '127.0.0.5';
/** hs2's max_upload_size, which also caps what it fetches. */
const MAX_SIZE = 1024 * 1024;

/**
 * A server named old.test: it predates authenticated media except for two
 * media IDs, one whose bytes are elsewhere (Location) and one too large.
 */
async function standInServer(cert: TestCertificate): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  let port = 0;
  const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const url = req.url ?? '';
    seen.push(url);
    const multipart = (headers: Record<string, string>, content: Buffer) => {
      const { head, tail } = multipartFraming('standin', '{}', headers);
      res.writeHead(200, { 'Content-Type': 'multipart/mixed; boundary=standin' }).end(Buffer.concat([head, content, tail]));
    };
    if (url.startsWith('/_matrix/federation/v1/media/download/redirectedMedia')) return multipart({ Location: `https://${OLD_ADDRESS}:${port}/cdn/file` }, Buffer.alloc(0));
    if (url.startsWith('/_matrix/federation/v1/media/download/hugeMedia')) return multipart({ 'Content-Type': 'application/octet-stream' }, Buffer.alloc(MAX_SIZE + 10));
    if (url.startsWith('/_matrix/federation/v1/')) return res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}');
    if (url.startsWith('/_matrix/media/v3/download/old.test/legacyMedia?')) {
      return res
        .writeHead(200, { 'Content-Type': 'text/html', 'Content-Disposition': "attachment; filename*=utf-8''caf%C3%A9.html" })
        .end('<script>alert("hi")</script>');
    }
    if (url === '/cdn/file') return res.writeHead(200, { 'Content-Type': 'text/plain' }).end('from the CDN');
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errcode":"M_NOT_FOUND","error":"no such media"}');
  });
  await new Promise<void>((resolve) => server.listen(0, OLD_ADDRESS, resolve));
  port = (server.address() as AddressInfo).port;
  return { server, port, seen };
}

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
}

for (const engine of ENGINES) {
  describe(`media across servers (hs2 on ${engine})`, () => {
    let fed: Federation;
    let hs1: FederatedServer;
    let hs2: FederatedServer;
    let alice: TestUser;
    let bob: TestUser;
    let old: Awaited<ReturnType<typeof standInServer>>;

    const upload = async (user: TestUser, bytes: Buffer, contentType: string, filename: string): Promise<string> => {
      const res = await fetch(`${hs1.clientUrl}/_matrix/media/v3/upload?filename=${encodeURIComponent(filename)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': contentType },
        body: bytes,
      });
      assert.equal(res.status, 200);
      const uri = ((await res.json()) as Json)['content_uri'] as string;
      return uri.slice(uri.lastIndexOf('/') + 1);
    };
    const download = (server: FederatedServer, path: string, user?: TestUser) =>
      fetch(`${server.clientUrl}${path}`, { headers: user ? { Authorization: `Bearer ${user.accessToken}` } : {} });
    const errorOf = async (res: Response) => {
      const body = (await res.json()) as Json;
      return { status: res.status, errcode: body['errcode'], error: String(body['error']) };
    };

    before(async () => {
      const ca = await createTestCa();
      old = await standInServer(await ca.issue(['old.test', OLD_ADDRESS]));
      fed = await startFederation({
        ca,
        servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine, config: { maxUploadSize: MAX_SIZE, federationHosts: { 'old.test': { host: OLD_ADDRESS, port: old.port } } } }],
      });
      [hs1, hs2] = fed.servers as [FederatedServer, FederatedServer];
      alice = await registerUser(hs1.clientUrl, 'alice');
      bob = await registerUser(hs2.clientUrl, 'bob');
    });
    after(async () => {
      await fed.close();
      await new Promise<void>((resolve) => old.server.close(() => resolve()));
    });

    test("another server's media downloads through it once; the cache serves it after, thumbnails too", async () => {
      const image = await png(64, 48);
      const mediaId = await upload(alice, image, 'image/png', 'cat.png');
      const path = `/_matrix/client/v1/media/download/hs1.test/${mediaId}`;

      const first = await download(hs2, path, bob);
      assert.equal(first.status, 200);
      assert.deepEqual(Buffer.from(await first.arrayBuffer()), image);
      assert.equal(first.headers.get('content-type'), 'image/png');
      assert.equal(first.headers.get('content-disposition'), 'inline; filename="cat.png"');

      // hs1 loses the file: it can no longer serve it, but hs2 does not ask it again.
      rmSync(hs1.services.media.files.contentPath(mediaId));
      assert.equal((await download(hs1, path, alice)).status, 404);
      const second = await download(hs2, path, bob);
      assert.equal(second.status, 200);
      assert.deepEqual(Buffer.from(await second.arrayBuffer()), image);
      const legacy = await download(hs2, `/_matrix/media/v3/download/hs1.test/${mediaId}?allow_remote=false`);
      assert.equal(legacy.status, 200, 'allow_remote=false serves what is cached');

      const thumbnail = await download(hs2, `/_matrix/client/v1/media/thumbnail/hs1.test/${mediaId}?width=32&height=32&method=crop`, bob);
      assert.equal(thumbnail.status, 200);
      assert.equal(thumbnail.headers.get('content-type'), 'image/png');
      const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [32, 32], 'thumbnailed here from the cached original');
    });

    test('unknown media of the other server is 404, naming it', async () => {
      const res = await errorOf(await download(hs2, '/_matrix/client/v1/media/download/hs1.test/NoSuchMediaHere', bob));
      assert.equal(res.status, 404);
      assert.equal(res.errcode, 'M_NOT_FOUND');
      assert.match(res.error, /mxc:\/\/hs1\.test\/NoSuchMediaHere.*hs1\.test/);
      const legacy = await errorOf(await download(hs2, '/_matrix/media/v3/download/hs1.test/AnotherMissingOne?allow_remote=false'));
      assert.match(legacy.error, /not cached on this server, and allow_remote=false/);
    });

    test('the federation endpoints answer multipart/mixed: empty metadata, then the content with its headers', async () => {
      const mediaId = await upload(alice, Buffer.from('hello there'), 'text/plain', 'a note.txt');
      const answer = await hs2.services.federation.client.requestRaw(hs1.name, 'GET', `/_matrix/federation/v1/media/download/${mediaId}`, { maxBytes: 1 << 20 });
      const boundary = multipartBoundary(String(answer.headers['content-type']));
      assert.ok(boundary && /^multipart\/mixed;/.test(String(answer.headers['content-type'])));
      assert.equal(Number(answer.headers['content-length']), answer.body.length);
      const [metadata, content] = parseMultipart(answer.body, boundary);
      assert.deepEqual([metadata!.headers['content-type'], metadata!.body.toString()], ['application/json', '{}']);
      assert.equal(content!.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(content!.headers['content-disposition'], 'inline; filename="a note.txt"');
      assert.equal(content!.body.toString(), 'hello there');

      const imageId = await upload(alice, await png(100, 100), 'image/png', 'big.png');
      const thumb = await hs2.services.federation.client.requestRaw(hs1.name, 'GET', `/_matrix/federation/v1/media/thumbnail/${imageId}`, {
        query: { width: 32, height: 32, method: 'crop' },
        maxBytes: 1 << 20,
      });
      const [, thumbnail] = parseMultipart(thumb.body, multipartBoundary(String(thumb.headers['content-type']))!);
      assert.equal(thumbnail!.headers['content-type'], 'image/png');
      assert.equal(thumbnail!.headers['content-disposition'], 'inline; filename="thumbnail.png"');
      assert.deepEqual([(await sharp(thumbnail!.body).metadata()).width], [32]);

      await assert.rejects(
        hs2.services.federation.client.requestRaw(hs1.name, 'GET', '/_matrix/federation/v1/media/download/NoSuchMediaHere', { maxBytes: 1 << 20 }),
        (err: { status?: number; errcode?: string }) => err.status === 404 && err.errcode === 'M_NOT_FOUND',
      );
    });

    test('a server without federation media is asked on the legacy path with allow_remote=false, once', async () => {
      const path = '/_matrix/client/v1/media/download/old.test/legacyMedia';
      const res = await download(hs2, path, bob);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<script>alert("hi")</script>');
      // Served with the same safety as local media: never inline HTML, sandboxed, not sniffed.
      assert.equal(res.headers.get('content-disposition'), "attachment; filename*=utf-8''caf%C3%A9.html");
      assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const asked = old.seen.filter((url) => url.includes('legacyMedia'));
      assert.equal(asked.length, 2, asked.join('\n'));
      assert.match(asked[0]!, /^\/_matrix\/federation\/v1\/media\/download\/legacyMedia\?/);
      const legacy = new URL(asked[1]!, 'https://old.test');
      assert.equal(legacy.pathname, '/_matrix/media/v3/download/old.test/legacyMedia');
      assert.equal(legacy.searchParams.get('allow_remote'), 'false');

      assert.equal((await download(hs2, path, bob)).status, 200);
      assert.equal(old.seen.filter((url) => url.includes('legacyMedia')).length, 2, 'the second download came from the cache');
    });

    test('a Location in the multipart answer is followed; media over max_upload_size is 502 M_TOO_LARGE', async () => {
      const redirected = await download(hs2, '/_matrix/client/v1/media/download/old.test/redirectedMedia', bob);
      assert.equal(redirected.status, 200);
      assert.equal(await redirected.text(), 'from the CDN');
      assert.ok(old.seen.includes('/cdn/file'));

      const huge = await errorOf(await download(hs2, '/_matrix/client/v1/media/download/old.test/hugeMedia', bob));
      assert.deepEqual([huge.status, huge.errcode], [502, 'M_TOO_LARGE']);
      assert.match(huge.error, /mxc:\/\/old\.test\/hugeMedia.*max_upload_size/);
    });
  });
}
