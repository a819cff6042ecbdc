import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { contentDisposition } from '../../src/http/media/serve.js';
import { IpPolicy } from '../../src/core/ip-policy.js';
import { parseOpenGraph } from '../../src/services/media/preview.js';
import { configuredCandidates, selectThumbnail, thumbnailDimensions } from '../../src/services/media/thumbnails.js';
import { MEDIA_DEFAULTS } from '../../src/config/load.js';
import { runMigrations } from '../../src/storage/migrations/index.js';
import { MediaStore } from '../../src/storage/media.js';
import { ENGINES, withDatabase } from '../helpers/databases.js';

for (const engine of ENGINES) {
  describe(`MediaStore (${engine})`, () => {
    test('uploaded and pending media, completion once, pending counts, thumbnails', async () => {
      await withDatabase(engine, async (db) => {
        await runMigrations(db);
        const store = new MediaStore(db);
        const content = { contentType: 'image/png', uploadName: 'a.png', size: 5_000_000_000, sha256: 'ab'.repeat(32), uploadedTs: 1000 };
        await store.insertUploaded('direct', '@a:x', content);
        assert.deepEqual(await store.get('direct'), {
          mediaId: 'direct', userId: '@a:x', contentType: 'image/png', uploadName: 'a.png', size: 5_000_000_000,
          sha256: 'ab'.repeat(32), createdTs: 1000, uploadedTs: 1000, unusedExpiresTs: null, quarantined: false, quarantinedBy: null,
        });

        await store.insertPending('pending1', '@a:x', 100, 2000);
        await store.insertPending('pending2', '@a:x', 100, 500);
        assert.equal(await store.countPending('@a:x', 1000), 1, 'the expired one does not count');
        assert.equal((await store.get('pending1'))?.uploadedTs, null);
        assert.equal(await store.completePending('pending1', content), true);
        assert.equal(await store.completePending('pending1', content), false, 'content is accepted once');
        assert.equal(await store.countPending('@a:x', 1000), 0);
        assert.equal((await store.get('pending1'))?.size, 5_000_000_000);
        assert.equal(await store.get('nope'), undefined);

        const thumb = { mediaId: 'direct', width: 32, height: 32, method: 'crop' as const, contentType: 'image/png', size: 123 };
        await store.insertThumbnail(thumb);
        await store.insertThumbnail(thumb);
        assert.deepEqual(await store.thumbnails('direct'), [thumb]);
      });
    });
  });
}

describe('thumbnail geometry', () => {
  const original = { width: 1000, height: 500 };

  test('scale keeps the aspect ratio and never upscales', () => {
    assert.deepEqual(thumbnailDimensions(original, { width: 320, height: 240 }, 'scale'), { width: 320, height: 160 });
    assert.deepEqual(thumbnailDimensions(original, { width: 320, height: 100 }, 'scale'), { width: 200, height: 100 });
    assert.deepEqual(thumbnailDimensions(original, { width: 4000, height: 3000 }, 'scale'), original);
  });

  test('crop gives the target size, or the largest region of its aspect inside a smaller original', () => {
    assert.deepEqual(thumbnailDimensions(original, { width: 96, height: 96 }, 'crop'), { width: 96, height: 96 });
    assert.deepEqual(thumbnailDimensions(original, { width: 800, height: 800 }, 'crop'), { width: 500, height: 500 });
    assert.deepEqual(thumbnailDimensions({ width: 20, height: 40 }, { width: 32, height: 32 }, 'crop'), { width: 20, height: 20 });
  });

  test("Synapse's selection: smallest crop covering the request, closest scale at least as big in one dimension", () => {
    const candidates = configuredCandidates(original, MEDIA_DEFAULTS.thumbnailSizes, 'image/png');
    const pick = (width: number, height: number, method: 'crop' | 'scale') => selectThumbnail({ width, height, method, contentType: 'image/png' }, candidates);
    assert.deepEqual(pick(40, 40, 'crop'), { candidate: { width: 96, height: 96, method: 'crop', contentType: 'image/png' }, bigEnough: true });
    assert.deepEqual(pick(20, 20, 'crop')?.candidate.width, 32);
    assert.deepEqual(pick(600, 300, 'scale'), { candidate: { width: 640, height: 320, method: 'scale', contentType: 'image/png' }, bigEnough: true });
    assert.equal(pick(900, 900, 'scale')?.bigEnough, false);
  });
});

describe('Content-Disposition', () => {
  test('inline only for the spec list; RFC 6266 names', () => {
    assert.equal(contentDisposition('image/png', 'a b.png'), 'inline; filename="a b.png"');
    assert.equal(contentDisposition('image/svg+xml', 'x.svg'), 'attachment; filename="x.svg"');
    assert.equal(contentDisposition('text/html; charset=utf-8', null), 'attachment');
    assert.equal(contentDisposition('TEXT/PLAIN', 'say "hi".txt'), "inline; filename*=utf-8''say%20%22hi%22.txt");
    assert.equal(contentDisposition('video/mp4', '猫.mp4'), "inline; filename*=utf-8''%E7%8C%AB.mp4");
  });
});

describe('IpPolicy', () => {
  test('blacklist with whitelist exceptions, IPv4-mapped IPv6 included', () => {
    const policy = new IpPolicy(['127.0.0.0/8', '10.0.0.0/8', 'fc00::/7'], ['10.1.2.3/32']);
    assert.equal(policy.isBlocked('127.0.0.5'), true);
    assert.equal(policy.isBlocked('::ffff:127.0.0.1'), true);
    assert.equal(policy.isBlocked('fd00::1'), true);
    assert.equal(policy.isBlocked('10.1.2.3'), false);
    assert.equal(policy.isBlocked('93.184.216.34'), false);
  });
});

describe('parseOpenGraph', () => {
  test('og: tags win, <title> and description fill gaps, entities decoded, description trimmed', () => {
    const html = `<html><head><meta charset="iso-8859-1"><title>T</title>
      <meta content='Real &quot;title&quot;' property='og:title'>
      <META NAME="description" CONTENT="${'d'.repeat(600)}"></head></html>`;
    const og = parseOpenGraph(Buffer.from(html, 'latin1'), 'text/html');
    assert.equal(og['og:title'], 'Real "title"');
    assert.equal(og['og:description']?.length, 500);
    assert.deepEqual(parseOpenGraph(Buffer.from('<title>\n  Just   a title </title>'), 'text/html; charset=utf-8'), { 'og:title': 'Just a title' });
  });

  test('Twitter cards fill what OpenGraph lacks; itemprop images and favicons stand in for og:image', () => {
    const og = parseOpenGraph(
      Buffer.from('<meta name="twitter:title" content="Tweet title"><meta property="og:title" content="OG title"><meta name="twitter:image" content="/t.png"><meta name="twitter:site" content="@example">'),
      'text/html',
    );
    assert.deepEqual(og, { 'og:title': 'OG title', 'og:image': '/t.png', 'og:site_name': '@example' });
    assert.equal(parseOpenGraph(Buffer.from('<meta itemprop="image" content="/item.png"><img src="/img.png">'), 'text/html')['og:image'], '/item.png');
    assert.equal(parseOpenGraph(Buffer.from('<link rel="shortcut icon" href="/favicon.ico"><title>t</title>'), 'text/html')['og:image'], '/favicon.ico');
  });

  test('a page of unclosed tags is parsed in linear time', () => {
    const hostile = Buffer.from(`<body>${'<h1><title><script><!--<svg>'.repeat(100_000)}`);
    const started = performance.now();
    parseOpenGraph(hostile, 'text/html');
    assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
  });
});

describe('media config', () => {
  const FILE = '/etc/axon/homeserver.yaml';
  const load = (text: string) => parseConfig(`server_name: example.org\n${text}`, FILE, { warn: () => {}, defaultBindAddresses: ['::'] });

  test("Synapse's defaults", () => {
    const config = load('');
    assert.equal(config.urlPreviewEnabled, false);
    assert.equal(config.maxImagePixels, 32 * 1024 * 1024);
    assert.equal(config.dynamicThumbnails, false);
    assert.deepEqual(config.thumbnailSizes, [...MEDIA_DEFAULTS.thumbnailSizes]);
  });

  test('preview IP ranges and max_image_pixels', () => {
    const config = load('url_preview_enabled: true\nurl_preview_ip_range_blacklist: [10.0.0.0/8]\nurl_preview_ip_range_whitelist: [10.0.0.1]\nmax_image_pixels: 1M\n');
    assert.deepEqual(config.urlPreviewIpRangeBlacklist, ['10.0.0.0/8', '0.0.0.0/32', '::/128']);
    assert.deepEqual(config.urlPreviewIpRangeWhitelist, ['10.0.0.1/32']);
    assert.equal(config.maxImagePixels, 1024 * 1024);
  });

  test('thumbnail_sizes entries are checked', () => {
    assert.deepEqual(load('thumbnail_sizes:\n  - {width: 10, height: 20, method: crop}\n').thumbnailSizes, [{ width: 10, height: 20, method: 'crop' }]);
    assert.throws(() => load('thumbnail_sizes:\n  - {width: 10, height: 20, method: stretch}\n'), /thumbnail_sizes\[0\]\.method: must be crop or scale/);
  });
});
