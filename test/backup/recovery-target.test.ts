// Which backup a point-in-time recovery starts from, and the refusal of a target before it: pure
// functions over catalog entries (no lab); the labs' own tests prove them end to end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backupForTarget, beforeConsistency } from '../../src/backup/recovery.js';
import { resolveLabConfig } from '../../src/lab/config.js';
import { UserError } from '../../src/errors.js';

const older = { label: 'b1', finishedAt: '2026-01-01T10:00:00.000Z', stopLsn: '0/5000000' };
const newer = { label: 'b2', finishedAt: '2026-01-02T10:00:00.000Z', stopLsn: '1/0' };

describe('recovery targets and backups', () => {
  test('a time with a zone or an LSN before the backup ended is named; xid, name and zoneless times are left to PostgreSQL', () => {
    assert.match(
      beforeConsistency({ time: '2026-01-01 09:59:59+00' }, older)!,
      /target time .* is before backup b1 ended/,
    );
    assert.equal(beforeConsistency({ time: '2026-01-01 10:00:01+00' }, older), undefined);
    assert.equal(beforeConsistency({ time: '2026-01-01 12:30:00+02:00' }, older), undefined);
    assert.match(beforeConsistency({ time: '2026-01-01 11:30:00+02:00' }, older)!, /before backup b1/);
    assert.equal(beforeConsistency({ time: '2000-01-01 00:00:00' }, older), undefined);
    assert.match(
      beforeConsistency({ lsn: '0/4FFFFFF' }, older)!,
      /target LSN 0\/4FFFFFF is before backup b1's consistency point \(stop LSN 0\/5000000\)/,
    );
    assert.equal(beforeConsistency({ lsn: '0/5000000' }, older), undefined);
    assert.match(beforeConsistency({ lsn: 'FF/0' }, { ...newer, stopLsn: '100/0' })!, /before backup b2/);
    assert.equal(beforeConsistency({ xid: '1' }, newer), undefined);
    assert.equal(beforeConsistency({ name: 'p' }, newer), undefined);
  });

  test('the newest backup that reaches the target; a target before every backup or the named one is refused in one line', () => {
    const newestFirst = [newer, older];
    assert.equal(backupForTarget(newestFirst, { time: '2026-01-03 00:00:00+00' }, undefined, 's'), newer);
    assert.equal(backupForTarget(newestFirst, { time: '2026-01-01 12:00:00+00' }, undefined, 's'), older);
    assert.equal(backupForTarget(newestFirst, { name: 'p' }, undefined, 's'), newer);
    assert.equal(backupForTarget([], { lsn: '0/1' }, undefined, 's'), undefined);
    assert.equal(backupForTarget(newestFirst, { lsn: '0/1' }, 'missing', 's'), undefined);
    assert.throws(
      () => backupForTarget(newestFirst, { time: '2025-12-31 00:00:00+00' }, undefined, 'pitr'),
      (err: Error) =>
        err instanceof UserError &&
        /^step pitr: target time 2025-12-31 00:00:00\+00 is before backup b1 ended \(2026-01-01T10:00:00.000Z\), the oldest of 2 backup\(s\): recovery cannot stop there; choose a later target$/.test(
          err.message,
        ),
    );
    assert.throws(
      () => backupForTarget(newestFirst, { lsn: '0/6000000' }, 'b2', 'pitr'),
      /before backup b2's consistency point .*choose a later target or an older backup$/,
    );
  });

  test('lab --backup-tool: pgbackrest needs --archive, is recorded in the shape; unknown tools are refused', () => {
    assert.deepEqual(resolveLabConfig({ archive: true, backupTool: 'pgbackrest' }).archive, {
      timeoutS: 60,
      tool: 'pgbackrest',
    });
    assert.deepEqual(resolveLabConfig({ archive: true, backupTool: 'native' }).archive, { timeoutS: 60 });
    assert.throws(
      () => resolveLabConfig({ backupTool: 'pgbackrest' }),
      /--backup-tool pgbackrest needs --archive/,
    );
    assert.throws(
      () => resolveLabConfig({ archive: true, backupTool: 'barman' as never }),
      /--backup-tool must be one of native, pgbackrest, got barman/,
    );
  });
});
