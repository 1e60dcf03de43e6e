#!/usr/bin/python3
"""An independent write client: libpq through psycopg2, a different stack than drillbook's probe.

It writes one row every --interval-ms through --host:--port, reconnecting after any error (at the
next tick, or --reconnect-delay-ms after the failure when given, as a drill profile's
reconnectDelay), and on SIGTERM prints one JSON object with what it saw (timestamps in epoch ms):
sent (INSERTs sent), acked, failed (attempts that failed, connecting or writing), ackedAt (every
acknowledged write), longestGapMs, gaps [{startMs, endMs}] between acknowledged writes longer than
--gap-factor x interval, firstFailureAt, lastFailureAt, failures [{atMs, tookMs, phase, error}].
It prints "ready" on stderr after its first acknowledged write. The password comes from PGPASSWORD.
With --once it makes one connect-and-write attempt instead, when a line arrives on stdin, and
prints {ok, ms, error}.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

import psycopg2

MAX_FAILURES_LISTED = 200


def now_ms():
    return time.time() * 1000.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dbname", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--table", default="independent_client")
    p.add_argument("--connect-timeout", type=int, default=5, help="libpq connect_timeout, seconds (libpq takes 1 as 2)")
    p.add_argument("--write-timeout-ms", type=int, default=5000, help="statement_timeout and tcp_user_timeout of each write")
    p.add_argument("--interval-ms", type=float, default=50)
    p.add_argument("--gap-factor", type=float, default=2.0)
    p.add_argument("--reconnect-delay-ms", type=float, default=None, help="pause after a failure (default: until the next tick)")
    p.add_argument("--once", action="store_true", help="one connect and write; print {ok, ms, error} and exit")
    return p.parse_args()


class Recorder:
    """What the writer saw; the lock keeps the SIGTERM snapshot consistent with the writer thread."""

    def __init__(self, interval_ms, gap_factor):
        self.lock = threading.Lock()
        self.interval_ms = interval_ms
        self.gap_limit_ms = interval_ms * gap_factor
        self.started_at = now_ms()
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.last_ack = None
        self.first_ack = None
        self.acked_at = []
        self.gaps = []
        self.failures = []
        self.first_failure = None
        self.last_failure = None

    def ack(self, at):
        with self.lock:
            self.acked += 1
            self.acked_at.append(round(at))
            if self.first_ack is None:
                self.first_ack = at
            if self.last_ack is not None and at - self.last_ack > self.gap_limit_ms:
                self.gaps.append({"startMs": round(self.last_ack), "endMs": round(at)})
            self.last_ack = at

    def failure(self, at, took, phase, error):
        with self.lock:
            self.failed += 1
            if self.first_failure is None:
                self.first_failure = at
            self.last_failure = at
            if len(self.failures) < MAX_FAILURES_LISTED:
                self.failures.append(
                    {"atMs": round(at), "tookMs": round(took), "phase": phase, "error": error.strip().splitlines()[0] if error.strip() else type(error).__name__}
                )

    def result(self):
        with self.lock:
            stopped = now_ms()
            longest = max((g["endMs"] - g["startMs"] for g in self.gaps), default=0)
            return {
                "startedAt": round(self.started_at),
                "stoppedAt": round(stopped),
                "intervalMs": self.interval_ms,
                "sent": self.sent,
                "acked": self.acked,
                "failed": self.failed,
                "firstAckAt": None if self.first_ack is None else round(self.first_ack),
                "lastAckAt": None if self.last_ack is None else round(self.last_ack),
                "ackedAt": list(self.acked_at),
                "longestGapMs": longest,
                "gaps": list(self.gaps),
                "firstFailureAt": None if self.first_failure is None else round(self.first_failure),
                "lastFailureAt": None if self.last_failure is None else round(self.last_failure),
                "failures": list(self.failures),
            }


def connect(args, create_table=False):
    conn = psycopg2.connect(
        host=args.host,
        port=args.port,
        dbname=args.dbname,
        user=args.user,
        connect_timeout=args.connect_timeout,
        # Our own write timeouts: the server cancels a slow statement, the kernel gives up on unacked data.
        options="-c statement_timeout=%d" % args.write_timeout_ms,
        tcp_user_timeout=args.write_timeout_ms,
        keepalives=1,
        keepalives_idle=1,
        keepalives_interval=1,
        keepalives_count=3,
        application_name="independent-client",
    )
    conn.autocommit = True
    if not create_table:
        return conn
    # Once, before the first write: a reconnect costs what an application's costs (connect, then
    # write), like the drill's probe, which creates its table once too.
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, at timestamptz NOT NULL)" % args.table)
    return conn


def write_loop(args, rec, stop):
    conn = None
    tick = time.monotonic()
    while not stop.is_set():
        started = now_ms()
        phase = "connect"
        try:
            if conn is None:
                conn = connect(args, create_table=rec.first_ack is None)
            phase = "write"
            with rec.lock:
                rec.sent += 1
            with conn.cursor() as cur:
                cur.execute("INSERT INTO %s (at) VALUES (now())" % args.table)
            first = rec.first_ack is None
            rec.ack(now_ms())
            if first:
                sys.stderr.write("ready\n")
                sys.stderr.flush()
        except Exception as err:  # any error: count it, drop the connection, reconnect at the next tick
            rec.failure(started, now_ms() - started, phase, str(err) or type(err).__name__)
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
        if conn is None and args.reconnect_delay_ms is not None:
            # Like the drill's probe: the pause runs from the failure, whatever the attempt took.
            stop.wait(args.reconnect_delay_ms / 1000.0)
            tick = time.monotonic()
            continue
        tick += args.interval_ms / 1000.0
        delay = tick - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            tick = time.monotonic()  # behind after a slow attempt: write at once, then keep the pace


def attempt_once(args):
    """How long one new client waits to connect and write: the figure a hanging router inflates.

    It says "ready" on stderr and waits for a line on stdin first, so the caller picks the moment
    to the millisecond, without the interpreter's start-up in between.
    """
    sys.stderr.write("ready\n")
    sys.stderr.flush()
    if not sys.stdin.readline():
        return  # the caller went away without asking for the attempt
    started = time.monotonic()
    try:
        conn = connect(args, create_table=True)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO %s (at) VALUES (now())" % args.table)
        conn.close()
        outcome = {"ok": True}
    except Exception as err:
        outcome = {"ok": False, "error": (str(err).strip().splitlines() or [type(err).__name__])[0]}
    outcome["ms"] = round((time.monotonic() - started) * 1000.0, 1)
    sys.stdout.write(json.dumps(outcome) + "\n")


def main():
    args = parse_args()
    if args.once:
        return attempt_once(args)
    rec = Recorder(args.interval_ms, args.gap_factor)
    stop = threading.Event()
    # The writer runs in a thread so SIGTERM is answered at once, even while libpq blocks in connect.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    writer = threading.Thread(target=write_loop, args=(args, rec, stop), daemon=True)
    writer.start()
    while not stop.wait(0.05):
        pass
    sys.stdout.write(json.dumps(rec.result()) + "\n")
    sys.stdout.flush()
    # A write still blocked in libpq is abandoned (neither acked nor failed).
    os._exit(0)


if __name__ == "__main__":
    main()
