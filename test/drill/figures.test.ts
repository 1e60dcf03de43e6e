import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clearDegraded, markDegraded, readDegraded } from '../../src/drill/degraded.js';
import { drillFigures } from '../../src/drill/figures.js';
import { lsnDistance, parseLsn } from '../../src/actions/lsn.js';
import type { ProbeWrite } from '../../src/drill/probe.js';

const OLD = '127.0.0.11:5432';
const NEW = '127.0.0.12:5432';
const w = (seq: number, sentAt: number, ackAt?: number, server = OLD, lsn?: string): ProbeWrite => ({
  seq,
  sentAt,
  ackAt,
  server: ackAt === undefined ? undefined : server,
  lsn,
  error: ackAt === undefined ? 'connection refused' : undefined,
});

describe('drill figures', () => {
  it('LSNs are byte positions', () => {
    assert.equal(parseLsn('0/3000158'), 0x3000158n);
    assert.equal(parseLsn('1/0'), 1n << 32n);
    assert.equal(lsnDistance('1/10', '0/FFFFFFF0'), 0x20);
    assert.throws(() => parseLsn('nope'));
  });

  it('RTO is the first acknowledged write sent after the fault, minus the fault time', () => {
    const writes = [
      w(1, 0, 2, OLD, '0/100'),
      w(2, 50, 51, OLD, '0/180'),
      w(3, 100),
      w(4, 1100),
      w(5, 2100, 2104, NEW),
    ];
    const f = drillFigures({
      writes,
      faultAt: 90,
      presentSeqs: new Set([1, 2, 5]),
      oldPrimary: OLD,
      promotedAt: 1500,
      timelineSwitchLsn: '0/180',
    });
    assert.equal(f.rtoMs, 2104 - 90);
    assert.equal(f.longestGapMs, 2104 - 51);
    assert.deepEqual([f.writesSent, f.writesAcked, f.writesFailed], [5, 3, 2]);
    assert.equal(f.rpoRows, 0);
    assert.equal(f.rpoBytes, 0);
    assert.equal(f.splitBrainWrites, 0);
  });

  it('RPO rows are acknowledged rows the new primary lacks; RPO bytes the WAL past the promotion point', () => {
    const writes = [w(1, 0, 2, OLD, '0/100'), w(2, 50, 52, OLD, '0/300'), w(3, 900, 905, NEW)];
    const f = drillFigures({
      writes,
      faultAt: 60,
      presentSeqs: new Set([1, 3]),
      oldPrimary: OLD,
      timelineSwitchLsn: '0/200',
    });
    assert.equal(f.rpoRows, 1);
    assert.deepEqual(f.lostSeqs, [2]);
    assert.equal(f.rpoBytes, 0x100);
  });

  it('writes the old primary acknowledged after the promotion are split brain', () => {
    const writes = [w(1, 0, 2), w(2, 100, 103), w(3, 200, 204), w(4, 300, 305, NEW)];
    const f = drillFigures({
      writes,
      faultAt: 50,
      presentSeqs: new Set([1, 4]),
      oldPrimary: OLD,
      promotedAt: 150,
    });
    assert.equal(f.splitBrainWrites, 1);
    assert.equal(f.rpoRows, 2);
  });

  it('no acknowledged write after the fault leaves RTO undefined', () => {
    const f = drillFigures({
      writes: [w(1, 0, 1), w(2, 100)],
      faultAt: 50,
      presentSeqs: new Set([1]),
      oldPrimary: OLD,
    });
    assert.equal(f.rtoMs, undefined);
  });

  it('a degraded mark is written, read and cleared', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drillbook-degraded-'));
    try {
      assert.equal(readDegraded(dir, 'lab'), undefined);
      markDegraded(dir, {
        environment: 'lab',
        since: 'now',
        runId: 'r1',
        reason: 'restore failed',
        manualSteps: ['x'],
      });
      assert.equal(readDegraded(dir, 'lab')?.reason, 'restore failed');
      clearDegraded(dir, 'lab');
      assert.equal(readDegraded(dir, 'lab'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
