// The Patroni lab the Patroni tests share: private slot 18, synchronous_mode, ttl 8 / loop_wait 1 /
// retry_timeout 3 (below Patroni's documented minimum, to keep failovers short on CI).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, type LabUpOptions } from '../../src/lab/index.js';
import { slotOptions } from './private-lab.js';

export const PATRONI_SLOT = 18;
export const PATRONI_LAB_OPTIONS: Omit<LabUpOptions, 'dir'> = {
  ...slotOptions(PATRONI_SLOT),
  etcdPort: 16586,
  patroniRestPort: 16588,
  ha: 'patroni',
  sync: true,
  patroni: 'ttl=8,loop_wait=1,retry_timeout=3',
};
export const PATRONI_TTL_MS = 8000;

/** A fresh directory (readable by the service user) for the lab; `remove` takes the lab down and the directory away. */
export function patroniLabDir(): { parent: string; dir: string; remove(): Promise<void> } {
  const parent = mkdtempSync(join(tmpdir(), `drillbook-slot${PATRONI_SLOT}-`));
  chmodSync(parent, 0o755);
  const dir = join(parent, 'lab');
  return {
    parent,
    dir,
    async remove() {
      try {
        await labDown(dir);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    },
  };
}
