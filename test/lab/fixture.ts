// The lab these tests run against: the suite's test lab when scripts/test.sh started one,
// otherwise a private lab in a temporary directory, on its own addresses and ports.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { labDown, labUp, type LabUpOptions } from '../../src/lab/index.js';
import { testLab, type TestLab } from '../helpers/lab.js';

/** Registers before/after hooks and returns a getter for the lab they provide. */
export function useLab(privateOptions: Omit<LabUpOptions, 'dir'>): () => TestLab {
  let lab: TestLab | undefined;
  let privateDir: string | undefined;
  before(async () => {
    lab = testLab();
    if (lab) return;
    const parent = mkdtempSync(join(tmpdir(), 'drillbook-lab-test-'));
    // As root, PostgreSQL runs as another user, who must be able to reach the lab.
    chmodSync(parent, 0o755);
    privateDir = join(parent, 'lab');
    await labUp({ ...privateOptions, dir: privateDir });
    process.env.DRILLBOOK_TEST_LAB = privateDir;
    lab = testLab();
  });
  after(async () => {
    if (!privateDir) return;
    delete process.env.DRILLBOOK_TEST_LAB;
    await labDown(privateDir);
    rmSync(dirname(privateDir), { recursive: true, force: true });
  });
  return () => {
    if (!lab) throw new Error('the lab did not come up (see the before hook)');
    return lab;
  };
}
