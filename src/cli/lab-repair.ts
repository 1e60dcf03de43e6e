// A drill on the lab repairs what its fault left dead (a killed Patroni node, killed etcd members)
// with lab up, which keeps what runs and restarts the rest; an inventory of no lab has no repair.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { labUp } from '../lab/index.js';

export async function repairLabOf(inventoryFile: string): Promise<string[] | undefined> {
  const dir = dirname(inventoryFile);
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  return (await labUp({ dir })).lines;
}
