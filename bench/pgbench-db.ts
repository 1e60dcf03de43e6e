// What the backup benches share: a pgbench database on the lab primary, its size, and the figures.
import { pgTools } from '../src/backup/tools.js';
import { actionContext } from '../test/helpers/action-context.js';
import { connectPostgres, nodeEndpoint } from '../src/connectors/postgres.js';
import { resolveSecretRef } from '../src/connectors/secrets.js';
import type { Environment } from '../src/schema/inventory.js';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * pgbench -i at a scale on pg1, checkpointed; prints the database size. Returns it with the
 * PostgreSQL programs and action contexts with an hour's deadline (a 1 GB round takes longer than
 * the tests' two minutes).
 */
export async function pgbenchDatabase(env: Environment, scale: number) {
  const hour = AbortSignal.timeout(3_600_000);
  const tools = pgTools(undefined, 'bench', hour);
  const ctx = () => ({ ...actionContext(env), signal: hour });
  const pg1 = env.postgres.nodes.pg1!;
  const t = performance.now();
  await tools.run(
    'pgbench',
    // Server-side data generation (G) is the quickest way to 1 GB; vacuum (v) sets hint bits
    // and the visibility map, so the table sums of round 1 do not dirty the whole table.
    [
      '-i',
      '-s',
      String(scale),
      '-I',
      'dtGvp',
      '-h',
      pg1.host,
      '-p',
      String(pg1.port),
      '-U',
      env.postgres.user,
    ],
    {
      env: {
        PGPASSWORD: await resolveSecretRef(env.postgres.password!),
        PGDATABASE: env.postgres.database,
      },
    },
  );
  const client = await connectPostgres(nodeEndpoint(env, 'primary'), { secret: resolveSecretRef });
  await client.query('CHECKPOINT');
  const size = await client.query<{ s: string }>('SELECT pg_database_size(current_database())::text AS s');
  await client.end();
  const dbBytes = Number(size.rows[0]!.s);
  console.log(
    `database: ${(dbBytes / 1e6).toFixed(0)} MB (pgbench scale ${scale}, built in ${seconds(performance.now() - t)})`,
  );
  return { tools, ctx, dbBytes };
}
