// Whether a PostgreSQL server runs a data directory, and how to stop it, told in a way that survives
// a SIGKILL. A killed postmaster leaves postmaster.pid behind, and until its parent (often PID 1,
// which may reap late or never) reaps it, the dead process is a zombie: kill -0 succeeds on it, so
// `pg_ctl status` says "running", `pg_ctl stop` waits for a pid file no one will remove, and the
// server's own start refuses the lock file. Here a postmaster is live only when the PID on line 1
// of postmaster.pid exists, is not a zombie, and is a process of that data directory (its working
// directory, which the postmaster changes to at start, else its command line names the directory).
//
// Most callers run on the node's host over SSH, so the definition is a POSIX shell snippet; this
// machine's own callers (the lab) use livePostmasterPid, the same test in-process.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { shq } from './shell-quote.js';

/** PostgreSQL's shutdown modes (the signals pg_ctl stop -m sends: TERM, INT, QUIT). */
export type ShutdownMode = 'smart' | 'fast' | 'immediate';

/** How long orphaned server processes may take to notice their postmaster died and exit. */
const ORPHANS_EXIT_S = 10;

/**
 * Shell functions (safe under set -e), defined by prefixing a script with this text:
 * - `pg_live DIR`: prints the live postmaster's PID and succeeds; fails when none runs DIR.
 * - `pg_clear_stale DIR`: when no postmaster runs DIR, waits until no process of DIR is left
 *   (backends exit once they see their postmaster gone) and removes a postmaster.pid left behind,
 *   as the server's own start would for a dead PID; fails while processes of DIR still run.
 * - `pg_stop DIR MODE SECONDS`: signals a live postmaster (smart, fast or immediate shutdown),
 *   waits until it is no longer live (a corpse counts as stopped), then clears what it left;
 *   prints `stopped` or `not-running`.
 */
export const POSTMASTER_SH = String.raw`
pg_dir_of() { ( cd "$1" 2>/dev/null && pwd -P ); }
pg_of_dir() {
  _s=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  case $_s in ''|Z|X|x) return 1 ;; esac
  if _c=$(readlink "/proc/$1/cwd" 2>/dev/null); then [ "$_c" = "$2" ]; return; fi
  tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null | grep -qxF -e "$2" -e "$3"
}
pg_live() {
  _p=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || return 1
  case $_p in ''|*[!0-9]*) return 1 ;; esac
  pg_of_dir "$_p" "$(pg_dir_of "$1")" "$1" || return 1
  echo "$_p"
}
pg_orphans() {
  _r=$(pg_dir_of "$1")
  find /proc -mindepth 2 -maxdepth 2 -name cwd -printf '%h %l\n' 2>/dev/null |
    while read -r _d _l; do [ "$_l" = "$_r" ] && printf ' %s' "${'$'}{_d#/proc/}"; done || true
}
pg_clear_stale() {
  pg_live "$1" >/dev/null && return 0
  [ -e "$1/postmaster.pid" ] || return 0
  _n=0
  while _o=$(pg_orphans "$1"); [ -n "$_o" ]; do
    _n=$((_n + 1))
    if [ $_n -gt ${ORPHANS_EXIT_S * 10} ]; then
      echo "$1: its postmaster is dead but processes $_o still run in it; stop them before starting it" >&2
      return 1
    fi
    sleep 0.1
  done
  rm -f "$1/postmaster.pid"
}
pg_stop() {
  if ! _p=$(pg_live "$1"); then pg_clear_stale "$1" && echo not-running; return; fi
  case $2 in smart) _sig=TERM ;; fast) _sig=INT ;; immediate) _sig=QUIT ;; *) echo "unknown shutdown mode $2" >&2; return 2 ;; esac
  kill -$_sig "$_p" 2>/dev/null || true
  _n=0
  while pg_live "$1" >/dev/null; do
    _n=$((_n + 1))
    if [ $_n -gt $(($3 * 10)) ]; then echo "$1: postmaster $_p did not stop within $3 s ($2 shutdown)" >&2; return 1; fi
    sleep 0.1
  done
  pg_clear_stale "$1" && echo stopped
}
`;

/** A script that stops the server of dataDir (pg_stop above) and prints `stopped` or `not-running`. */
export const stopPostmasterScript = (dataDir: string, mode: ShutdownMode, timeoutS = 60) =>
  `${POSTMASTER_SH}\npg_stop ${shq(dataDir)} ${mode} ${Math.round(timeoutS)}`;

/** The live postmaster's PID of a data directory on this machine (pg_live above, in-process). */
export function livePostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^[ZXx]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return undefined;
    return runsIn(pid, dataDir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function runsIn(pid: number, dataDir: string): boolean {
  const real = realpathSync(dataDir);
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === real;
  } catch {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(real) || args.includes(dataDir);
  }
}
