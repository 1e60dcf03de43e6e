// lab up --monitoring: exporters, Prometheus with the PostgresPrimaryDown rule, Alertmanager aimed
// at the lab's serve, and that serve; lab status shows them and lab down leaves no process behind.
// Slot 25 (127.0.1.1.., ports 16650..; monitoring on 16656..16659). Needs `npm run build` (the
// lab's serve runs bin/drillbook.js).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { UserError } from '../../src/errors.js';
import { resolveLabConfig } from '../../src/lab/config.js';
import { labDown, labStatus, labUp } from '../../src/lab/index.js';
import { PRIMARY_DOWN_ALERT } from '../../src/lab/monitoring-config.js';
import { waitFor } from '../../src/system/processes.js';
import { portAnswers } from '../../src/system/ports.js';
import { slotOptions } from '../helpers/private-lab.js';

const SLOT = 25;

/** PIDs whose command line mentions dir: what lab down must have stopped. */
const processesOf = (dir: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(dir);
      } catch {
        return false;
      }
    });

const getJson = async (url: string) => (await (await fetch(url)).json()) as Record<string, unknown>;

test('lab up --monitoring runs exporters, Prometheus, Alertmanager and serve; lab down leaves nothing', async () => {
  const parent = mkdtempSync(join(tmpdir(), `drillbook-slot${SLOT}-`));
  chmodSync(parent, 0o755);
  const dir = join(parent, 'lab');
  const options = { ...slotOptions(SLOT), monitoring: true };
  try {
    const up = await labUp({ ...options, dir });
    const status = await labStatus(dir);
    const kinds = new Map(status.components.map((c) => [c.name, c]));
    for (const name of [
      'exporter-pg1',
      'exporter-pg2',
      'exporter-pg3',
      'prometheus',
      'alertmanager',
      'serve',
    ])
      assert.equal(kinds.get(name)?.up, true, `${name} is not up: ${JSON.stringify(kinds.get(name))}`);
    assert.ok(status.allUp);
    // Never Debian's default ports: the lab's own, from its PostgreSQL port.
    const prometheus = `http://127.0.0.1:${options.pgPort! + 6}`;
    assert.deepEqual(kinds.get('serve')?.listen, [{ host: '127.0.0.1', port: options.pgPort! + 8 }]);

    // Prometheus scrapes every node and holds the rule, quiet while the lab has its primary.
    const targetsUp = async () => {
      const t = (await getJson(`${prometheus}/api/v1/targets`)).data as {
        activeTargets: { health: string }[];
      };
      return t.activeTargets.length === 3 && t.activeTargets.every((a) => a.health === 'up');
    };
    assert.ok(await waitFor(targetsUp, 20_000, 250), 'Prometheus does not scrape the three exporters');
    const rules = async () => JSON.stringify((await getJson(`${prometheus}/api/v1/rules`)).data);
    assert.match(await rules(), new RegExp(`"name":"${PRIMARY_DOWN_ALERT}".*"duration":2,`));
    // Pending for a moment while the first scrapes come in, never for the 2 s it takes to fire.
    assert.ok(await waitFor(async () => /"state":"inactive"/.test(await rules()), 5000, 100), await rules());

    // The inventory names the serve; its triggers are the example's, with the lab's token file.
    const inventory = parse(readFileSync(up.inventory, 'utf8')) as {
      environments: { lab: { serve?: { url: string; stateDir: string } } };
    };
    const serve = inventory.environments.lab.serve;
    assert.ok(serve, 'the inventory names no serve');
    assert.equal((await getJson(`${serve.url}/healthz`)).ok, true);
    const triggers = readFileSync(join(dir, 'triggers.yaml'), 'utf8');
    assert.match(triggers, /token: file:\/.*alertmanager-token/);
    const am = readFileSync(join(dir, 'monitoring', 'alertmanager.yml'), 'utf8');
    assert.match(am, new RegExp(`url: ${serve.url}/hooks/alertmanager`));
    assert.match(am, /group_wait: 0s/);
    // Alertmanager's receiver is authorised: a request without the token is refused.
    const anonymous = await fetch(`${serve.url}/hooks/alertmanager`, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401);
    assert.equal(existsSync(join(serve.stateDir, 'serve', 'alerts.jsonl')), false, 'an alert at rest');
    // The lab's approver signs in to the web UI with the lab's token file.
    const uiToken = readFileSync(join(dir, 'secrets', 'web-ui-token'), 'utf8').trim();
    const signIn = await fetch(`${serve.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: uiToken }).toString(),
      redirect: 'manual',
    });
    assert.equal(signIn.status, 303);
    const runs = await fetch(`${serve.url}/`, {
      headers: { cookie: signIn.headers.get('set-cookie')!.split(';')[0]! },
    });
    assert.equal(runs.status, 200);
    assert.ok(!triggers.includes(uiToken), 'the web UI token is inline in triggers.yaml');
  } finally {
    const down = await labDown(dir);
    rmSync(parent, { recursive: true, force: true });
    assert.ok(
      down.stopped.some((s) => s.startsWith('prometheus')),
      down.stopped.join(', '),
    );
  }
  assert.deepEqual(processesOf(dir), [], 'lab down left processes of the lab');
  for (const k of [6, 7, 8])
    assert.equal(await portAnswers('127.0.0.1', options.pgPort! + k), false, `port +${k} still answers`);
});

test('the monitoring ports follow the PostgreSQL port, and a Patroni lab is refused', () => {
  assert.deepEqual(resolveLabConfig({ monitoring: true }).monitoring, {
    prometheusPort: 5438,
    alertmanagerPort: 5439,
    servePort: 5440,
    exporterPort: 5441,
  });
  assert.equal(resolveLabConfig({}).monitoring, undefined);
  assert.throws(
    () => resolveLabConfig({ monitoring: true, ha: 'patroni' }),
    (err) => err instanceof UserError && /--monitoring cannot go with --ha patroni/.test(err.message),
  );
});
