import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp, { type Metadata } from 'sharp';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

async function upload(hs: TestHomeserver, user: TestUser, bytes: Buffer, contentType?: string, filename?: string): Promise<Response> {
  const query = filename === undefined ? '' : `?filename=${encodeURIComponent(filename)}`;
  const headers: Record<string, string> = { Authorization: `Bearer ${user.accessToken}` };
  if (contentType !== undefined) headers['Content-Type'] = contentType;
  return fetch(`${hs.baseUrl}/_matrix/media/v3/upload${query}`, { method: 'POST', headers, body: bytes });
}

async function uploadOk(hs: TestHomeserver, user: TestUser, bytes: Buffer, contentType?: string, filename?: string): Promise<{ serverName: string; mediaId: string }> {
  const res = await upload(hs, user, bytes, contentType, filename);
  assert.equal(res.status, 200);
  const { content_uri } = (await res.json()) as { content_uri: string };
  const match = /^mxc:\/\/([^/]+)\/([A-Za-z]{24})$/.exec(content_uri);
  assert.ok(match, `unexpected content_uri ${content_uri}`);
  return { serverName: match[1]!, mediaId: match[2]! };
}

function get(hs: TestHomeserver, path: string, token?: string, method = 'GET'): Promise<Response> {
  return fetch(`${hs.baseUrl}${path}`, { method, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
}

async function errorOf(res: Response): Promise<{ status: number; errcode: string }> {
  const body = (await res.json()) as { errcode: string };
  return { status: res.status, errcode: body.errcode };
}

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 200, g: 10, b: 10, alpha: 0.5 } } }).png().toBuffer();
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`media round trip (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    before(async () => {
      hs = await startTestHomeserver({ engine });
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('upload then download returns the exact bytes on the authenticated and legacy paths', async () => {
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
      const { serverName, mediaId } = await uploadOk(hs, alice, bytes, 'image/png', 'cat.png');
      const authed = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}`, alice.accessToken);
      assert.equal(authed.status, 200);
      assert.deepEqual(Buffer.from(await authed.arrayBuffer()), bytes);
      assert.equal(authed.headers.get('content-type'), 'image/png');
      assert.equal(authed.headers.get('content-disposition'), 'inline; filename="cat.png"');
      assert.equal(authed.headers.get('content-length'), String(bytes.length));
      const legacy = await get(hs, `/_matrix/media/v3/download/${serverName}/${mediaId}`);
      assert.equal(legacy.status, 200);
      assert.deepEqual(Buffer.from(await legacy.arrayBuffer()), bytes);
    });
  });
}

describe('media repository', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    hs = await startTestHomeserver({ config: { maxUploadSize: 1024 * 1024, maxImagePixels: 600_000 } });
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
  });
  after(async () => hs.close());

  test('the authenticated endpoints need an access token', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, Buffer.from('hi'), 'text/plain');
    for (const path of [`/_matrix/client/v1/media/download/${serverName}/${mediaId}`, `/_matrix/client/v1/media/thumbnail/${serverName}/${mediaId}?width=32&height=32`, '/_matrix/client/v1/media/config']) {
      assert.deepEqual(await errorOf(await get(hs, path)), { status: 401, errcode: 'M_MISSING_TOKEN' }, path);
    }
    const res = await fetch(`${hs.baseUrl}/_matrix/media/v3/upload`, { method: 'POST', body: 'x' });
    assert.deepEqual(await errorOf(res), { status: 401, errcode: 'M_MISSING_TOKEN' });
  });

  test('config reports max_upload_size', async () => {
    const res = await call(hs.baseUrl, 'GET', '/_matrix/client/v1/media/config', undefined, alice.accessToken);
    assert.deepEqual(res.body, { 'm.upload.size': 1024 * 1024 });
  });

  test('an upload over max_upload_size is 413 M_TOO_LARGE', async () => {
    const res = await upload(hs, alice, Buffer.alloc(1024 * 1024 + 1), 'application/octet-stream');
    assert.deepEqual(await errorOf(res), { status: 413, errcode: 'M_TOO_LARGE' });
  });

  test('an empty upload without Content-Type is stored as application/octet-stream', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, Buffer.alloc(0));
    const res = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}`, alice.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('content-disposition'), 'attachment');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  test('HTML is served as an attachment with the sandboxing headers', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, Buffer.from('<script>alert(1)</script>'), 'text/html', 'page.html');
    const res = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}`, alice.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="page.html"');
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(
      res.headers.get('content-security-policy'),
      "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.ok(res.headers.get('cache-control'));
  });

  test('a non-ASCII file name uses RFC 6266 filename*, and the path file name overrides it', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, Buffer.from('hello'), 'text/plain', 'naïve résumé.txt');
    const res = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}`, alice.accessToken);
    assert.equal(res.headers.get('content-disposition'), "inline; filename*=utf-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt");
    const renamed = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}/other.txt`, alice.accessToken);
    assert.equal(renamed.headers.get('content-disposition'), 'inline; filename="other.txt"');
    assert.equal(await renamed.text(), 'hello');
  });

  test('HEAD answers the headers without the body', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, Buffer.from('0123456789'), 'text/plain');
    const res = await get(hs, `/_matrix/media/v3/download/${serverName}/${mediaId}`, undefined, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '10');
    assert.equal(await res.text(), '');
  });

  test('unknown and remote media are 404 M_NOT_FOUND', async () => {
    const serverName = hs.config.serverName;
    assert.deepEqual(await errorOf(await get(hs, `/_matrix/client/v1/media/download/${serverName}/NoSuchMediaIdHereAtAllXx`, alice.accessToken)), { status: 404, errcode: 'M_NOT_FOUND' });
    assert.deepEqual(await errorOf(await get(hs, `/_matrix/client/v1/media/download/${serverName}/..%2F..%2Fetc`, alice.accessToken)), { status: 404, errcode: 'M_NOT_FOUND' });
    assert.deepEqual(await errorOf(await get(hs, '/_matrix/client/v1/media/download/other.example/abcdefghijklmnopqrstuvwx', alice.accessToken)), { status: 404, errcode: 'M_NOT_FOUND' });
    assert.deepEqual(await errorOf(await get(hs, '/_matrix/media/v3/download/other.example/abcdefghijklmnopqrstuvwx?allow_remote=false')), { status: 404, errcode: 'M_NOT_FOUND' });
  });

  test('async upload: create, then only the creator may PUT, once; downloads wait for it', async () => {
    const created = await call(hs.baseUrl, 'POST', '/_matrix/media/v1/create', undefined, alice.accessToken);
    assert.equal(created.status, 200);
    assert.equal(typeof created.body.unused_expires_at, 'number');
    const [, serverName, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(created.body.content_uri as string)!;
    const path = `/_matrix/media/v3/upload/${serverName}/${mediaId}`;

    const early = await get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}?timeout_ms=50`, alice.accessToken);
    assert.deepEqual(await errorOf(early), { status: 504, errcode: 'M_NOT_YET_UPLOADED' });

    const put = (user: TestUser, body: string): Promise<Response> =>
      fetch(`${hs.baseUrl}${path}?filename=late.txt`, { method: 'PUT', headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'text/plain' }, body });
    assert.deepEqual(await errorOf(await put(bob, 'not yours')), { status: 403, errcode: 'M_FORBIDDEN' });

    const waiting = get(hs, `/_matrix/client/v1/media/download/${serverName}/${mediaId}?timeout_ms=5000`, bob.accessToken);
    const ok = await put(alice, 'finally');
    assert.equal(ok.status, 200);
    const waited = await waiting;
    assert.equal(waited.status, 200);
    assert.equal(await waited.text(), 'finally');
    assert.equal(waited.headers.get('content-disposition'), 'inline; filename="late.txt"');

    assert.deepEqual(await errorOf(await put(alice, 'again')), { status: 409, errcode: 'M_CANNOT_OVERWRITE_MEDIA' });
    const unknown = await fetch(`${hs.baseUrl}/_matrix/media/v3/upload/${serverName}/abcdefghijklmnopqrstuvwx`, { method: 'PUT', headers: { Authorization: `Bearer ${alice.accessToken}` }, body: 'x' });
    assert.deepEqual(await errorOf(unknown), { status: 404, errcode: 'M_NOT_FOUND' });
  });

  test('create limits pending uploads per user with 429 M_LIMIT_EXCEEDED', async () => {
    const carol = await registerUser(hs.baseUrl, 'carol');
    for (let i = 0; i < 5; i++) assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/media/v1/create', undefined, carol.accessToken)).status, 200);
    const refused = await call(hs.baseUrl, 'POST', '/_matrix/media/v1/create', undefined, carol.accessToken);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.errcode, 'M_LIMIT_EXCEEDED');
  });

  test('thumbnails: crop and scale sizes of a PNG, the original when it is small, 400 for non-images', async () => {
    const { serverName, mediaId } = await uploadOk(hs, alice, await png(1000, 500), 'image/png');
    const thumb = async (query: string): Promise<{ width: number; height: number; type: string | null; disposition: string | null }> => {
      const res = await get(hs, `/_matrix/client/v1/media/thumbnail/${serverName}/${mediaId}?${query}`, alice.accessToken);
      assert.equal(res.status, 200, query);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      return { width: meta.width!, height: meta.height!, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition') };
    };
    // crop 96x96 is the smallest configured crop covering 40x40.
    assert.deepEqual(await thumb('width=40&height=40&method=crop'), { width: 96, height: 96, type: 'image/png', disposition: 'inline; filename="thumbnail.png"' });
    // scale 320x240 keeps 2:1 → 320x160.
    assert.deepEqual(await thumb('width=300&height=100&method=scale'), { width: 320, height: 160, type: 'image/png', disposition: 'inline; filename="thumbnail.png"' });
    // Cached: asking again gives the same.
    assert.deepEqual(await thumb('width=300&height=100&method=scale'), { width: 320, height: 160, type: 'image/png', disposition: 'inline; filename="thumbnail.png"' });
    // Bigger than every configured size: the original, not a smaller thumbnail.
    assert.deepEqual((await thumb('width=1000&height=1000&method=scale')).width, 1000);

    const small = await uploadOk(hs, alice, await png(20, 10), 'image/png');
    const res = await get(hs, `/_matrix/media/v3/thumbnail/${small.serverName}/${small.mediaId}?width=32&height=32&method=crop`);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [20, 10]);

    const text = await uploadOk(hs, alice, Buffer.from('not an image'), 'text/plain');
    const refused = await get(hs, `/_matrix/client/v1/media/thumbnail/${text.serverName}/${text.mediaId}?width=32&height=32`, alice.accessToken);
    assert.deepEqual(await errorOf(refused), { status: 400, errcode: 'M_UNKNOWN' });
    const huge = await uploadOk(hs, alice, await png(1000, 700), 'image/png');
    const tooLarge = await get(hs, `/_matrix/client/v1/media/thumbnail/${huge.serverName}/${huge.mediaId}?width=32&height=32`, alice.accessToken);
    assert.deepEqual(await errorOf(tooLarge), { status: 413, errcode: 'M_TOO_LARGE' });
    const missing = await get(hs, `/_matrix/client/v1/media/thumbnail/${serverName}/${mediaId}?height=32`, alice.accessToken);
    assert.deepEqual(await errorOf(missing), { status: 400, errcode: 'M_MISSING_PARAM' });
  });

  test('JPEG thumbnails stay JPEG', async () => {
    const jpeg = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const { serverName, mediaId } = await uploadOk(hs, alice, jpeg, 'image/jpeg');
    const res = await get(hs, `/_matrix/client/v1/media/thumbnail/${serverName}/${mediaId}?width=32&height=32&method=crop`, alice.accessToken);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 32, 32]);
  });

  test('animated=true keeps a GIF animated; otherwise the thumbnail is a still PNG', async () => {
    const frame = (c: string): Promise<Buffer> => sharp({ create: { width: 200, height: 100, channels: 3, background: c } }).png().toBuffer();
    const gif = await sharp([await frame('#f00'), await frame('#0f0')], { join: { animated: true } }).gif().toBuffer();
    const { serverName, mediaId } = await uploadOk(hs, alice, gif, 'image/gif');
    const fetchThumb = async (extra: string): Promise<[string | null, Metadata]> => {
      const res = await get(hs, `/_matrix/client/v1/media/thumbnail/${serverName}/${mediaId}?width=32&height=32&method=crop${extra}`, alice.accessToken);
      return [res.headers.get('content-type'), await sharp(Buffer.from(await res.arrayBuffer()), { animated: true }).metadata()];
    };
    const [animatedType, animated] = await fetchThumb('&animated=true');
    assert.deepEqual([animatedType, animated.pages, animated.pageHeight, animated.width], ['image/gif', 2, 32, 32]);
    const [stillType, still] = await fetchThumb('');
    assert.deepEqual([stillType, still.pages ?? 1, still.width, still.height], ['image/png', 1, 32, 32]);
  });

  test('preview_url refuses with 403 M_FORBIDDEN while url_preview_enabled is off', async () => {
    for (const path of ['/_matrix/client/v1/media/preview_url', '/_matrix/media/v3/preview_url']) {
      const res = await get(hs, `${path}?url=http://example.org/`, alice.accessToken);
      assert.deepEqual(await errorOf(res), { status: 403, errcode: 'M_FORBIDDEN' }, path);
    }
  });
});

/** An HTTP server on `host` answering from `pages`, counting the requests it gets. */
async function pageServer(host: string, pages: Record<string, (res: ServerResponse) => void>): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    const page = pages[req.url ?? '/'];
    if (page) page(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

const html = (body: string) => (res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(body);
};

describe('URL previews', () => {
  let image: Buffer;
  let site: Awaited<ReturnType<typeof pageServer>>;
  /** On 127.0.0.2, redirecting to the site on 127.0.0.1. */
  let redirector: Awaited<ReturnType<typeof pageServer>>;
  const MAX_SPIDER_SIZE = 4096;

  before(async () => {
    image = await png(64, 48);
    site = await pageServer('127.0.0.1', {
      '/': html(
        '<html><head><title>Fallback &amp; title</title><meta property="og:description" content="A page about caf&#233;s"><meta name="description" content="ignored"><meta property="og:image" content="/image.png"></head><body>hi</body></html>',
      ),
      '/image.png': (res) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(image),
      '/redirect': (res) => res.writeHead(302, { Location: '/' }).end(),
      '/plain': html(
        '<html><head><title>Plain page</title><meta name="description" content="Described in a meta tag"></head><body><img src="/tiny.png" width="5" height="5"><img src="/image.png" width="64" height="48"></body></html>',
      ),
      '/heading': html('<html><body><nav>Menu</nav><script>var x = "<b>no</b>";</script><h1>The <em>heading</em></h1><p>First paragraph of the   body.</p></body></html>'),
      '/big': html(`<html><title>${'x'.repeat(MAX_SPIDER_SIZE)}</title></html>`),
      '/big-chunked': (res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        for (let i = 0; i < 8; i++) res.write('y'.repeat(MAX_SPIDER_SIZE / 4));
        res.end();
      },
    });
    redirector = await pageServer('127.0.0.2', {
      '/to-name': (res) => res.writeHead(302, { Location: site.url.replace('127.0.0.1', 'localhost') }).end(),
      '/to-address': (res) => res.writeHead(302, { Location: `${site.url}/` }).end(),
    });
  });
  after(async () => {
    for (const { server } of [site, redirector]) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const preview = (hs: TestHomeserver, user: TestUser, url: string) =>
    call(hs.baseUrl, 'GET', `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent(url)}`, undefined, user.accessToken);

  describe('with the default url_preview_ip_range_blacklist', () => {
    let hs: TestHomeserver;
    let user: TestUser;
    before(async () => {
      hs = await startTestHomeserver({ config: { urlPreviewEnabled: true } });
      user = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('loopback is refused, by address and by name, without a request', async () => {
      const before = site.hits();
      const direct = await preview(hs, user, `${site.url}/`);
      assert.equal(direct.status, 403);
      assert.equal(direct.body.error, 'IP address blocked by IP blacklist entry');
      const viaName = await preview(hs, user, site.url.replace('127.0.0.1', 'localhost'));
      assert.equal(viaName.status, 502);
      assert.match(String(viaName.body.error), /blacklist/);
      assert.equal(site.hits(), before);
    });
  });

  describe('redirects', () => {
    let hs: TestHomeserver;
    let user: TestUser;
    before(async () => {
      // Only the redirector is allowed; the site it points to stays blocked.
      hs = await startTestHomeserver({ config: { urlPreviewEnabled: true, urlPreviewIpRangeWhitelist: ['127.0.0.2/32'] } });
      user = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('every hop is checked again, after its own DNS lookup', async () => {
      const before = site.hits();
      const toName = await preview(hs, user, `${redirector.url}/to-name`);
      assert.equal(toName.status, 502, JSON.stringify(toName.body));
      assert.match(String(toName.body.error), /resolves to 127\.0\.0\.1/);
      const toAddress = await preview(hs, user, `${redirector.url}/to-address`);
      assert.equal(toAddress.status, 403);
      assert.equal(site.hits(), before, 'the blocked site was never contacted');
      assert.ok(redirector.hits() >= 2);
    });
  });

  for (const engine of ENGINES) {
    describe(`with loopback whitelisted (${engine})`, () => {
      let hs: TestHomeserver;
      let user: TestUser;
      before(async () => {
        hs = await startTestHomeserver({ engine, config: { urlPreviewEnabled: true, urlPreviewIpRangeWhitelist: ['127.0.0.0/8'], maxSpiderSize: MAX_SPIDER_SIZE } });
        user = await registerUser(hs.baseUrl, 'alice');
      });
      after(async () => hs.close());

      test('OpenGraph fields, title fallback, og:image stored as local media, then cached', async () => {
        const res = await preview(hs, user, `${site.url}/redirect`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body['og:title'], 'Fallback & title');
        assert.equal(res.body['og:description'], 'A page about cafés');
        const mxc = /^mxc:\/\/([^/]+)\/([A-Za-z]+)$/.exec(String(res.body['og:image']));
        assert.ok(mxc, `og:image is an mxc URI: ${String(res.body['og:image'])}`);
        assert.deepEqual([res.body['og:image:width'], res.body['og:image:height'], res.body['og:image:type']], [64, 48, 'image/png']);
        assert.equal(res.body['matrix:image:size'], image.length);
        const stored = await get(hs, `/_matrix/client/v1/media/download/${mxc[1]}/${mxc[2]}`, user.accessToken);
        assert.deepEqual(Buffer.from(await stored.arrayBuffer()), image);
        const before = site.hits();
        const cached = await call(hs.baseUrl, 'GET', `/_matrix/media/v3/preview_url?url=${encodeURIComponent(`${site.url}/redirect`)}&ts=1`, undefined, user.accessToken);
        assert.deepEqual(cached.body, res.body);
        assert.equal(site.hits(), before);
      });

      test('without OpenGraph: the title, the meta description and the largest image', async () => {
        const res = await preview(hs, user, `${site.url}/plain`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body['og:title'], 'Plain page');
        assert.equal(res.body['og:description'], 'Described in a meta tag');
        assert.match(String(res.body['og:image']), /^mxc:\/\//);
        assert.equal(res.body['og:image:width'], 64);
      });

      test('without a title or description: the first heading and the body text', async () => {
        const res = await preview(hs, user, `${site.url}/heading`);
        assert.deepEqual(res.body, { 'og:title': 'The heading', 'og:description': 'The heading First paragraph of the body.' });
      });

      test('an image URL is previewed as the image itself', async () => {
        const res = await preview(hs, user, `${site.url}/image.png`);
        assert.equal(res.status, 200);
        assert.match(String(res.body['og:image']), /^mxc:\/\//);
        assert.equal(res.body['matrix:image:size'], image.length);
      });

      test('max_spider_size bounds the download, declared or not: 502 M_TOO_LARGE', async () => {
        for (const path of ['/big', '/big-chunked']) {
          const res = await preview(hs, user, `${site.url}${path}`);
          assert.deepEqual([res.status, res.body.errcode], [502, 'M_TOO_LARGE'], path);
        }
      });

      test('bad URLs are 400; a page that fails is 502 and not cached', async () => {
        for (const url of ['ftp://example.org/', 'not a url']) {
          const res = await preview(hs, user, url);
          assert.deepEqual([res.status, res.body.errcode], [400, 'M_INVALID_PARAM'], url);
        }
        assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v1/media/preview_url', undefined, user.accessToken)).body.errcode, 'M_MISSING_PARAM');
        const before = site.hits();
        assert.equal((await preview(hs, user, `${site.url}/missing`)).status, 502);
        assert.equal((await preview(hs, user, `${site.url}/missing`)).status, 502);
        assert.equal(site.hits(), before + 2);
      });
    });
  }
});
