// What a restored copy must show: the tables' row counts and checksums recorded at backup time,
// and (where the amcheck extension is installed) structurally sound B-tree indexes.
import { connectPostgres } from '../connectors/postgres.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { BackupEntry } from './catalog.js';
import { restoreEndpoint } from './restore.js';
import type { Scratch } from './scratch.js';
import { compareSums, tableSums } from './table-sums.js';
import type { BackupContext } from './context.js';

type Ctx = Pick<BackupContext, 'env' | 'signal' | 'secret'>;

export interface RestoredChecks {
  tablesChecked: number;
  /** B-tree indexes bt_index_check found sound, or `unavailable` without amcheck. */
  indexesChecked: number | 'unavailable';
}

export async function checkRestored(
  ctx: Ctx,
  scratch: Scratch,
  entry: Pick<BackupEntry, 'label' | 'tables'> & { source: Pick<BackupEntry['source'], 'databases'> },
  amcheck: boolean,
): Promise<RestoredChecks> {
  let tablesChecked = 0;
  let indexesChecked: number | 'unavailable' = amcheck ? 0 : 'unavailable';
  for (const database of entry.source.databases) {
    const client = await connectPostgres(restoreEndpoint(ctx, scratch, database), {
      secret: ctx.secret,
      signal: ctx.signal,
    });
    try {
      const expected = entry.tables.filter((t) => t.database === database);
      const actual = await tableSums(
        client,
        database,
        expected.map((t) => t.table),
      );
      const differences = compareSums(expected, actual);
      if (differences.length > 0) {
        throw new StepFailure(
          `restored ${entry.label} differs from the source at backup time: ${differences.join('; ')}`,
        );
      }
      tablesChecked += expected.length;
      if (amcheck && indexesChecked !== 'unavailable') {
        const n = await btreeCheck(client, database);
        indexesChecked = n === undefined ? 'unavailable' : indexesChecked + n;
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { tablesChecked, indexesChecked };
}

/** bt_index_check on every valid B-tree index; undefined when amcheck is not installed here. */
async function btreeCheck(
  client: Awaited<ReturnType<typeof connectPostgres>>,
  database: string,
): Promise<number | undefined> {
  const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'`);
  if (available.rowCount === 0) return undefined;
  await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
  const indexes = await client.query<{ oid: number; name: string }>(
    `SELECT c.oid, c.oid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_am am ON am.oid = c.relam
      WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'`,
  );
  for (const index of indexes.rows) {
    try {
      await client.query('SELECT bt_index_check($1::regclass)', [index.oid]);
    } catch (err) {
      throw new StepFailure(
        `amcheck: index ${index.name} in ${database} of the restored copy is corrupt: ${errorMessage(err)}`,
      );
    }
  }
  return indexes.rows.length;
}
