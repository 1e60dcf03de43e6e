// The layer rules bite: a tree with one import is cruised with the project's own config, and an
// import that runs the wrong way fails the way `npm run lint` fails on it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

/** Cruises src/<from>.ts importing src/<to>.ts; the rule that failed, or undefined when it passed. */
function cruise(from: string, to: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-layers-'));
  try {
    const write = (file: string, text: string) => {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    };
    write(
      'tsconfig.json',
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    );
    write(`src/${to}.ts`, 'export const x = 1;\n');
    const spec = relative(dirname(join(dir, 'src', from)), join(dir, 'src', to)).replace(/^(?!\.)/, './');
    write(`src/${from}.ts`, `import { x } from '${spec}.js';\nexport const y = x;\n`);
    const bin = join(root, 'node_modules/.bin/depcruise');
    // JSON output (which exits 0 whatever it finds): the terminal reporter's colours depend on the
    // environment, and CI forces them.
    const r = spawnSync(
      bin,
      ['src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, `depcruise did not run: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as {
      summary: { violations: { rule: { name: string; severity: string } }[] };
    };
    const errors = report.summary.violations.filter((v) => v.rule.severity === 'error');
    return errors[0]?.rule.name;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('layer order (.dependency-cruiser.cjs)', () => {
  it('lets a layer import the layers below it', () => {
    assert.equal(cruise('engine/runner', 'actions/types'), undefined);
    assert.equal(cruise('actions/route', 'system/ports'), undefined);
    assert.equal(cruise('cli/commands/lab', 'lab/index'), undefined);
  });

  it('fails an import that runs the wrong way', () => {
    assert.equal(cruise('actions/route', 'lab/ports'), 'lab-is-a-user');
    assert.equal(cruise('connectors/slack', 'engine/redact'), 'layer-backup-connectors');
    assert.equal(cruise('schema/runbook', 'actions/registry'), 'layer-system-schema');
    assert.equal(cruise('runbook/rules/x', 'drill/faults/facts'), 'layer-runbook');
    assert.equal(cruise('engine/session', 'cli/output'), 'layer-engine');
    assert.equal(cruise('engine/session', 'report/evidence'), 'layer-engine');
    assert.equal(cruise('lab/heal-faults', 'drill/faults/partition'), 'lab-below-drill');
    assert.equal(cruise('errors', 'engine/events'), 'root-files-are-the-bottom');
  });

  it('has no exception left: backup may import no action module', () => {
    assert.equal(cruise('backup/produce', 'actions/types'), 'layer-backup-connectors');
    assert.equal(cruise('backup/storage/ssh', 'actions/node-host'), 'layer-backup-connectors');
    assert.equal(cruise('backup/produce', 'actions/registry'), 'layer-backup-connectors');
  });
});
