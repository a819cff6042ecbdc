// `axon tls init-ca` and `axon tls issue` through the real CLI: the files and
// their modes, the names in the certificate, the homeserver.yaml lines it
// prints — and two servers using those certificates federate with
// verification on, as the federation doctor confirms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { diagnoseFederation } from '../../src/federation/doctor.js';
import { runCli } from '../helpers/cli.js';
import { startFederation } from '../helpers/federation.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('axon tls', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'axon-tls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('init-ca writes a CA certificate and an owner-only key, and refuses to overwrite them', async () => {
    const run = await runCli(['tls', 'init-ca', '--dir', 'ca'], dir);
    assert.equal(run.code, 0, run.stderr);
    const ca = new X509Certificate(readFileSync(join(dir, 'ca/ca.crt')));
    assert.equal(ca.ca, true);
    assert.equal(ca.checkIssued(ca), true, 'self-signed');
    assert.equal(mode(join(dir, 'ca/ca.key')), 0o600);
    assert.equal(mode(join(dir, 'ca')), 0o700);
    assert.match(run.stdout, /next, for each server: axon tls issue --ca .*\/ca --name SERVER_NAME/);

    const again = await runCli(['tls', 'init-ca', '--dir', 'ca'], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ca\.crt already exists; Axon will not overwrite a CA/);
  });

  test('issue: a certificate for the name and addresses, signed by the CA, and the homeserver.yaml lines for both sides', async () => {
    const run = await runCli(['tls', 'issue', '--ca', 'ca', '--name', 'hs1.test', '--ip', '127.0.0.1', '--ip', '::1'], dir);
    assert.equal(run.code, 0, run.stderr);
    const cert = new X509Certificate(readFileSync(join(dir, 'ca/hs1.test.crt')));
    const ca = new X509Certificate(readFileSync(join(dir, 'ca/ca.crt')));
    assert.equal(cert.subjectAltName, 'DNS:hs1.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'ca/hs1.test.key')))), true);
    assert.equal(mode(join(dir, 'ca/hs1.test.key')), 0o600);

    const [own, others] = run.stdout.split(/^# homeserver\.yaml of every other server.*$/m);
    assert.match(own!, new RegExp(`^tls_certificate_path: ${join(dir, 'ca/hs1.test.crt')}$`, 'm'));
    assert.match(own!, new RegExp(`^tls_private_key_path: ${join(dir, 'ca/hs1.test.key')}$`, 'm'));
    // What the other servers are told to add is a valid config fragment with the meaning intended.
    const config = parseConfig(`server_name: hs2.test\n${others}`, join(dir, 'hs2.yaml'), { warn: () => {} });
    assert.deepEqual(config.federationCustomCaList, [join(dir, 'ca/ca.crt')]);
    assert.deepEqual(config.federationHosts, { 'hs1.test': { host: '127.0.0.1', port: 8448 } });
    assert.deepEqual(config.ipRangeWhitelist, ['127.0.0.1/32'], 'the loopback address is blocked by default, so it is whitelisted');
  });

  test('issue refuses a bad name, a bad address or a missing CA with exit 2 and the fix', async () => {
    const [badName, badIp, noCa] = await Promise.all([
      runCli(['tls', 'issue', '--ca', 'ca', '--name', 'not a name'], dir),
      runCli(['tls', 'issue', '--ca', 'ca', '--name', 'hs1.test', '--ip', '300.1.1.1'], dir),
      runCli(['tls', 'issue', '--ca', 'nowhere', '--name', 'hs1.test'], dir),
    ]);
    assert.deepEqual([badName.code, badIp.code, noCa.code], [2, 2, 2]);
    assert.match(badName.stderr, /--name: "not a name" is not a server name/);
    assert.match(badIp.stderr, /--ip: "300\.1\.1\.1" is not an IP address/);
    assert.match(noCa.stderr, /nowhere\/ca\.crt does not exist; make the CA first with: axon tls init-ca --dir /);
  });

  test('two servers with certificates from axon tls federate with verification on', async () => {
    for (const [name, ip] of [['hs2.test', '127.0.0.2'], ['hs3.test', '127.0.0.3']]) {
      assert.equal((await runCli(['tls', 'issue', '--ca', 'ca', '--name', name!, '--ip', ip!], dir)).code, 0);
    }
    const tlsOf = (name: string) => ({
      tlsCertificatePath: join(dir, `ca/${name}.crt`),
      tlsPrivateKeyPath: join(dir, `ca/${name}.key`),
      federationCustomCaList: [join(dir, 'ca/ca.crt')],
    });
    // The first server slot (127.0.0.1) is a bystander: the two under test take 127.0.0.2 and .3, as issued.
    const fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', config: tlsOf('hs2.test') }, { name: 'hs3.test', config: tlsOf('hs3.test') }] });
    try {
      const [, hs2, hs3] = fed.servers;
      assert.equal(hs2!.config.federationVerifyCertificates, true);
      const report = await diagnoseFederation({ serverName: 'hs2.test', transport: hs2!.services.federation, clock: Date.now }, 'hs3.test');
      assert.equal(report.ok, true, JSON.stringify(report, null, 2));
      assert.match(report.checks.find((c) => c.step === 'certificate for hs3.test')!.detail, /^trusted and valid for hs3\.test: CN=hs3\.test issued by CN=Axon LAN CA/);
    } finally {
      await fed.close();
    }
  });
});
