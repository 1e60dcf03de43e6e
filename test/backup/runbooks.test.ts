// The shipped backup runbooks end to end through `drillbook run` on a private lab with WAL
// archiving (slot 8): backup-full (twice: retention keeps the new one), restore-test, and pitr to a
// restore point made between two batches of rows.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Catalog } from '../../src/backup/catalog.js';
import { privateLab } from '../helpers/private-lab.js';
import { failures, runRunbook } from '../helpers/runbook-run.js';
import { archiveNow, sql, tempDirs } from './fixture.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-backup-runs-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

describe('backup runbooks on a lab with WAL archiving', () => {
  const lab = privateLab(8, { archive: true, archiveTimeout: '1s', replicas: 0 });
  const dir = tempDirs('drillbook-backup-runbooks-');

  test('backup-full, restore-test and pitr run green; the catalog, the restore time and the recovered rows show it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('store');
    await sql(l, 'CREATE TABLE IF NOT EXISTS batches (id int PRIMARY KEY)');
    const backupRun = await runRunbook(l, 'backup-full.yaml', { stateDir, set: [`store=${store}`] });
    assert.equal(backupRun.code, 0, failures(backupRun));
    const label = backupRun.steps.get('backup')!.outputs.label;

    const restoreRun = await runRunbook(l, 'restore-test.yaml', { stateDir, set: [`store=${store}`] });
    assert.equal(restoreRun.code, 0, failures(restoreRun));
    const restored = restoreRun.steps.get('restore')!.outputs;
    assert.equal(restored.label, label);
    t.diagnostic(`restore-test runbook: usable after ${String(restored.timeToUsableMs)} ms`);

    await sql(l, 'INSERT INTO batches SELECT generate_series(1, 100)');
    await sql(l, `SELECT pg_create_restore_point('before-batch-2')`);
    await sql(l, 'INSERT INTO batches SELECT generate_series(101, 200)');
    await archiveNow(l);
    const pitrRun = await runRunbook(l, 'pitr.yaml', {
      stateDir,
      set: [
        `store=${store}`,
        `archive=${join(l.dir, 'archive')}`,
        'restorePoint=before-batch-2',
        'checkTable=batches',
        'checkRows=100',
      ],
    });
    assert.equal(pitrRun.code, 0, failures(pitrRun));

    // The nightly run again: retention (keep 7) keeps both, and the catalog records the restore test.
    const again = await runRunbook(l, 'backup-full.yaml', { stateDir, set: [`store=${store}`] });
    assert.equal(again.code, 0, failures(again));
    const catalog = JSON.parse(readFileSync(join(store, 'catalog.json'), 'utf8')) as Catalog;
    assert.equal(catalog.backups.length, 2);
    assert.equal(catalog.backups.find((b) => b.label === label)!.restoreTests![0]!.ok, true);
  });
});
