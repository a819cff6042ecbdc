// The federation tester against real servers over real TLS: a healthy peer,
// and each way a LAN set-up breaks (wrong CA, our whitelist, our IP ranges,
// a peer that refuses us, a stopped peer), each named with its fix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HomeserverConfig } from '../../src/config/types.js';
import { diagnoseFederation, type DoctorCheck, type FederationReport } from '../../src/federation/doctor.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { createFederationTransport, type FederationTuning } from '../../src/federation/index.js';
import { call, registerUser } from '../helpers/client.js';
import { startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { createTestCa, writeCertificate } from '../helpers/tls.js';

/** The doctor as hs1 would run it, with hs1's config changed by `change`. */
function diagnoseAs(
  server: FederatedServer,
  target: string,
  change: Partial<HomeserverConfig> = {},
  signingKey = server.signingKey,
  tuning?: FederationTuning,
): Promise<FederationReport> {
  const transport = createFederationTransport({
    config: { ...server.config, ...change },
    signingKeys: [signingKey],
    clock: Date.now,
    userAgent: 'Axon-test',
    tuning,
  });
  try {
    return diagnoseFederation({ serverName: server.name, transport, clock: Date.now, timeoutMs: 5_000 }, target);
  } finally {
    transport.client.close();
  }
}

function problems(report: FederationReport): DoctorCheck[] {
  return report.checks.filter((c) => c.status === 'problem');
}

function onlyProblem(report: FederationReport): DoctorCheck {
  const found = problems(report);
  assert.equal(found.length, 1, JSON.stringify(report, null, 2));
  assert.equal(report.ok, false);
  return found[0]!;
}

describe('federation doctor', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let otherCaDir: string;
  before(async () => {
    // hs4 presents a certificate from a CA nobody here trusts.
    otherCaDir = mkdtempSync(join(tmpdir(), 'axon-other-ca-'));
    const otherCa = await createTestCa('Some other CA');
    const hs4Cert = writeCertificate(otherCaDir, 'hs4', await otherCa.issue(['hs4.test', '127.0.0.4']));
    fed = await startFederation({
      servers: [
        { name: 'hs1.test' },
        { name: 'hs2.test' },
        { name: 'hs3.test', domainWhitelist: ['hs2.test', 'hs3.test'] },
        { name: 'hs4.test', config: { tlsCertificatePath: hs4Cert.certPath, tlsPrivateKeyPath: hs4Cert.keyPath } },
      ],
    });
    hs1 = fed.servers[0]!;
  });
  after(async () => {
    await fed?.close();
    rmSync(otherCaDir, { recursive: true, force: true });
  });

  test('a healthy peer: every step ok, in the order a request takes', async () => {
    const report = await diagnoseAs(hs1, 'hs2.test');
    assert.equal(report.ok, true, JSON.stringify(report, null, 2));
    assert.equal(report.server, 'hs2.test');
    assert.deepEqual(
      report.checks.map((c) => [c.step, c.status]),
      [
        ['server name', 'ok'],
        ['federation_domain_whitelist', 'ok'],
        ['discovery: federation_hosts', 'ok'],
        [`connect to 127.0.0.2:${fed.servers[1]!.port}`, 'ok'],
        ['certificate for hs2.test', 'ok'],
        ['GET /_matrix/federation/v1/version', 'ok'],
        ['GET /_matrix/key/v2/server', 'ok'],
        ['signed request (GET /_matrix/federation/v1/query/profile)', 'ok'],
      ],
    );
    const byStep = new Map(report.checks.map((c) => [c.step, c]));
    assert.equal(byStep.get('discovery: federation_hosts')!.detail, `hs2.test → 127.0.0.2:${fed.servers[1]!.port}`);
    assert.match(byStep.get('certificate for hs2.test')!.detail, /CN=hs2\.test issued by CN=Axon test CA \[DNS:hs2\.test, IP Address:127\.0\.0\.2\]/);
    assert.match(byStep.get('GET /_matrix/federation/v1/version')!.detail, /runs Axon/);
    assert.match(byStep.get('GET /_matrix/key/v2/server')!.detail, new RegExp(`signed by its own key ${fed.servers[1]!.signingKey.keyId}`));
  });

  test('a peer whose certificate is from a CA we do not trust: the chain, the reason and federation_custom_ca_list', async () => {
    const problem = onlyProblem(await diagnoseAs(hs1, 'hs4.test'));
    assert.equal(problem.step, 'certificate for hs4.test');
    assert.match(problem.detail, /is not trusted: verification failed \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]/);
    assert.match(problem.detail, /Presented: CN=hs4\.test issued by CN=Some other CA/);
    assert.match(problem.fix!, /add the certificate of the CA "CN=Some other CA" to federation_custom_ca_list/);
  });

  test('certificates not checked (federation_verify_certificates: false): works, with a warning and the fix', async () => {
    const report = await diagnoseAs(hs1, 'hs4.test', { federationVerifyCertificates: false });
    assert.equal(report.ok, true, JSON.stringify(report, null, 2));
    const warning = report.checks.find((c) => c.status === 'warning');
    assert.equal(warning?.step, 'certificate for hs4.test');
    assert.match(warning!.detail, /not verified .* anyone on the path could impersonate hs4\.test/);
    assert.match(warning!.fix!, /federation_custom_ca_list and set federation_verify_certificates: true/);
  });

  test('SRV records: each target tried in order; one that is down is a warning when the next one works', async () => {
    const hs2 = fed.servers[1]!;
    const { 'hs2.test': _mapped, ...otherHosts } = hs1.config.federationHosts!;
    const srv: FederationTuning['resolveSrv'] = async (name) =>
      name === '_matrix-fed._tcp.hs2.test'
        ? [
            { name: '127.0.0.9', port: 1, priority: 0, weight: 0 },
            { name: '127.0.0.2', port: hs2.port, priority: 10, weight: 0 },
          ]
        : [];
    const report = await diagnoseAs(hs1, 'hs2.test', { federationHosts: otherHosts }, hs1.signingKey, { resolveSrv: srv });
    assert.equal(report.ok, true, JSON.stringify(report, null, 2));
    const byStep = new Map(report.checks.map((c) => [c.step, c]));
    assert.match(byStep.get('discovery: GET https://hs2.test/.well-known/matrix/server')!.detail, /^no answer/);
    assert.equal(byStep.get('discovery: SRV _matrix-fed._tcp.hs2.test')!.detail, `127.0.0.9:1 (priority 0, weight 0), 127.0.0.2:${hs2.port} (priority 10, weight 0)`);
    assert.equal(byStep.get('connect to 127.0.0.9:1')!.status, 'warning');
    assert.match(byStep.get('connect to 127.0.0.9:1')!.detail, /refused the connection/);
    assert.equal(byStep.get(`connect to 127.0.0.2:${hs2.port}`)!.status, 'ok');
    assert.equal(byStep.get('signed request (GET /_matrix/federation/v1/query/profile)')!.status, 'ok');
  });

  test('a peer outside our federation_domain_whitelist: named with the list to set', async () => {
    const report = await diagnoseAs(hs1, 'hs2.test', { federationDomainWhitelist: ['hs3.test'] });
    const problem = onlyProblem(report);
    assert.equal(problem.step, 'federation_domain_whitelist');
    assert.equal(problem.fix, "add it to the list in homeserver.yaml: federation_domain_whitelist: [..., 'hs2.test'] (or remove federation_domain_whitelist to federate with any server)");
    assert.ok(!report.checks.some((c) => c.step.startsWith('GET ')), 'no request is attempted that the whitelist refuses');
  });

  test('a peer whose address is in our blocked IP ranges: ip_range_whitelist with its address', async () => {
    const problem = onlyProblem(await diagnoseAs(hs1, 'hs2.test', { ipRangeWhitelist: [] }));
    assert.equal(problem.step, `connect to 127.0.0.2:${fed.servers[1]!.port}`);
    assert.match(problem.detail, /127\.0\.0\.2 is in a blocked IP range/);
    assert.match(problem.fix!, /ip_range_whitelist: \['127\.0\.0\.2\/32'\]/);
  });

  test('a peer that refuses us (we are not on its whitelist): told apart from one we cannot reach', async () => {
    const report = await diagnoseAs(hs1, 'hs3.test');
    const problem = onlyProblem(report);
    assert.equal(problem.step, 'signed request (GET /_matrix/federation/v1/query/profile)');
    assert.match(problem.detail, /hs3\.test refuses requests from us: Federation with hs1\.test is not allowed by this server's federation_domain_whitelist/);
    assert.equal(problem.fix, 'on hs3.test: add hs1.test to its federation_domain_whitelist (or take it off its deny-list)');
    assert.equal(report.checks.find((c) => c.step === 'GET /_matrix/key/v2/server')?.status, 'ok');
  });

  test('a peer that cannot verify our signature (it finds no such key of ours): what it needs to reach and the clocks', async () => {
    const problem = onlyProblem(await diagnoseAs(hs1, 'hs2.test', {}, generateSigningKey('doctor')));
    assert.equal(problem.step, 'signed request (GET /_matrix/federation/v1/query/profile)');
    assert.match(problem.detail, /^hs2\.test could not verify our signature: Invalid X-Matrix signature from hs1\.test: no key of hs1\.test could be found/);
    assert.match(problem.fix!, /hs2\.test must reach hs1\.test to fetch our keys .* both clocks must be right/);
  });

  test('a server asked for by its address instead of its name: the keys say who it is', async () => {
    const byAddress = `127.0.0.2:${fed.servers[1]!.port}`;
    const report = await diagnoseAs(hs1, byAddress);
    assert.equal(report.checks.find((c) => c.step === 'discovery: IP literal')?.detail, `connect to ${byAddress}`);
    const problem = onlyProblem(report);
    assert.equal(problem.step, 'GET /_matrix/key/v2/server');
    assert.match(problem.detail, new RegExp(`asked for the keys of ${byAddress.replace(/\./g, '\\.')}, got keys of "hs2\\.test"`));
    assert.match(problem.fix!, /^the server there is hs2\.test: federate with it by that name/);
  });

  test('over the admin API: admins get the report, others M_FORBIDDEN', async () => {
    const admin = await registerUser(hs1.clientUrl, 'doctor-admin');
    const user = await registerUser(hs1.clientUrl, 'doctor-user');
    await hs1.services.accounts.context.stores.users.setAdmin(admin.userId, true);
    const path = '/_axon/admin/v1/doctor/federation/hs2.test';
    const denied = await call(hs1.clientUrl, 'POST', path, {}, user.accessToken);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errcode, 'M_FORBIDDEN');
    const res = await call<FederationReport>(hs1.clientUrl, 'POST', path, {}, admin.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.ok, true);
    assert.equal(res.body.server, 'hs2.test');
    assert.ok(res.body.checks.every((c) => ['ok', 'warning', 'problem'].includes(c.status) && typeof c.detail === 'string'));
    const bad = await call(hs1.clientUrl, 'POST', '/_axon/admin/v1/doctor/federation/not%20a%20name', {}, admin.accessToken);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errcode, 'M_INVALID_PARAM');
  });

  // Last: it stops hs2.
  test('a stopped peer: the connection refused, and the federation_hosts entry to check', async () => {
    await fed.servers[1]!.stop();
    const problem = onlyProblem(await diagnoseAs(hs1, 'hs2.test'));
    const where = `127.0.0.2:${fed.servers[1]!.port}`;
    assert.equal(problem.step, `connect to ${where}`);
    assert.match(problem.detail, /refused the connection/);
    assert.equal(problem.fix, `make sure hs2.test is running and its federation listener is on ${where}; federation_hosts maps hs2.test to ${where}: correct that entry if it moved`);
  });
});
