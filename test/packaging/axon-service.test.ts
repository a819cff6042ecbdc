// packaging/axon.service: a unit systemd accepts, running Axon as its own
// user with the hardening the README promises, and README install steps that
// use the same paths as the unit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const UNIT_PATH = resolve('packaging/axon.service');
const unitText = readFileSync(UNIT_PATH, 'utf8');
const readme = readFileSync(resolve('README.md'), 'utf8');

/** The unit as section → key → values (a key may repeat, as SystemCallFilter does). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a key=value line inside a section: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unit = parseUnit(unitText);
const service = (key: string): string | undefined => unit.get('Service')?.get(key)?.at(-1);

const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('packaging/axon.service', () => {
  test(
    'systemd-analyze verify accepts it without a warning, and rates its exposure OK',
    // verify checks that ExecStart's program exists, so it needs node where the unit says.
    { skip: (!systemdAnalyze && 'systemd-analyze is not installed') || (!existsSync('/usr/bin/node') && 'the unit runs /usr/bin/node, which is not here') },
    () => {
      const verify = spawnSync('systemd-analyze', ['verify', UNIT_PATH], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      assert.equal(verify.stderr.trim(), '', 'no unknown keys or other complaints');
      const security = spawnSync('systemd-analyze', ['security', '--offline=yes', UNIT_PATH], { encoding: 'utf8' });
      const exposure = /Overall exposure level for axon\.service: ([\d.]+)/.exec(security.stdout + security.stderr);
      assert.ok(exposure, security.stdout + security.stderr);
      assert.ok(Number(exposure[1]) < 2, `exposure ${exposure[1]} (lower is better; below 2 is "OK")`);
    },
  );

  test('runs axon start as the axon user, restarts on failure, reloads with SIGHUP', () => {
    assert.equal(service('User'), 'axon');
    assert.equal(service('Group'), 'axon');
    assert.equal(service('ExecStart'), '/usr/bin/node /opt/axon/bin/axon start --config /etc/axon/homeserver.yaml');
    assert.equal(service('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(service('Restart'), 'on-failure');
    assert.equal(service('WorkingDirectory'), '/var/lib/axon');
    assert.equal(service('StateDirectory'), 'axon');
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    assert.match(unit.get('Unit')?.get('After')?.[0] ?? '', /network-online\.target/);
  });

  test('is hardened: no privileges, a read-only system with /var/lib/axon writable, no capabilities', () => {
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ReadWritePaths: '/var/lib/axon',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      // Empty: Axon's ports (8008, 8448, 9000) are above 1024 and need no CAP_NET_BIND_SERVICE.
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
    })) {
      assert.equal(service(key), value, key);
    }
    assert.equal(service('MemoryDenyWriteExecute'), undefined, "V8's JIT needs writable executable memory");
    assert.match(service('RestrictAddressFamilies') ?? '', /AF_NETLINK/, 'Node lists network interfaces through netlink');
  });
});

describe('README install steps', () => {
  const start = readme.indexOf('## Run it as a service');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  test('install the unit and use its user, config path and data directory', () => {
    assert.ok(start > 0, 'README has a "Run it as a service" section');
    assert.match(section, /sudo cp \/opt\/axon\/packaging\/axon\.service \/etc\/systemd\/system\/axon\.service/);
    assert.match(section, /sudo systemctl enable --now axon/);
    assert.match(section, /adduser --system --group --home \/var\/lib\/axon --no-create-home axon/);
    const [program, , , configFlag, configPath] = service('ExecStart')!.split(' ');
    assert.equal(configFlag, '--config');
    assert.ok(section.includes(`sudo ${program} /opt/axon/bin/axon generate-config --server-name example.org --config ${configPath} --data-dir /var/lib/axon`), 'generate-config writes the config the unit starts with');
    assert.match(section, /sudo chown -R axon:axon \/var\/lib\/axon/);
    assert.match(section, /systemctl reload axon/);
  });

  test("keeps the README's first two commands", () => {
    assert.ok(readme.startsWith('# Axon\n\n```sh\nnpm ci && npm start\nnpm test\n```\n'));
  });
});
