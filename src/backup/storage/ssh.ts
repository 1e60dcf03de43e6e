// A directory on an inventory SSH host as a backup store: files travel over SFTP (host key pinned
// like every other SSH connection), land under a temporary name and are renamed into place.
import type { NodeSSH } from 'node-ssh';
import { shq } from '../../connectors/shell-quote.js';
import { sshConnect } from '../../connectors/ssh.js';
import { StepFailure, errorMessage } from '../../errors.js';
import { inside } from '../store-names.js';
import type { Storage, StorageContext } from './storage.js';

/** `cat` of a missing file: the answer "not there", told apart from a failure. */
const MISSING = 3;

export async function sshStorage(
  ctx: StorageContext,
  host: string,
  root: string,
  location: string,
): Promise<Storage> {
  let ssh: NodeSSH;
  try {
    ssh = await sshConnect(ctx.env, host, { signal: ctx.signal, secret: ctx.secret });
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
    throw new StepFailure(`backup store ${location}: cannot connect: ${err.message}`, {
      retryable: err.retryable,
      cause: err,
    });
  }
  const path = (key: string) => inside(root, key, `backup store ${location}`);
  const fail = (what: string, detail: string): never => {
    throw new StepFailure(`backup store ${location}: ${what}: ${detail.trim() || 'no detail'}`);
  };
  const sh = async (what: string, script: string, stdin?: string, ok: number[] = [0]) => {
    const r = await ssh.execCommand(`sh -c ${shq(script)}`, { stdin });
    if (r.code === null || !ok.includes(r.code)) fail(what, r.stderr || `exit ${r.code}`);
    return r;
  };
  const sftp = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      fail(what, errorMessage(err));
    }
  };
  return {
    location,
    async put(localFile, key) {
      const dest = path(key);
      await sh(`cannot create the directory of ${dest}`, `mkdir -p "$(dirname ${shq(dest)})"`);
      try {
        await sftp(`cannot upload ${dest}`, () => ssh.putFile(localFile, `${dest}.partial`));
      } catch (err) {
        await ssh.execCommand(`rm -f ${shq(`${dest}.partial`)}`).catch(() => undefined);
        throw err;
      }
      await sh(`cannot rename into ${dest}`, `mv ${shq(`${dest}.partial`)} ${shq(dest)}`);
    },
    async get(key, localFile) {
      await sftp(`cannot download ${path(key)}`, () => ssh.getFile(localFile, path(key)));
    },
    async readText(key) {
      const p = shq(path(key));
      const r = await sh(`cannot read ${path(key)}`, `test -f ${p} || exit ${MISSING}; cat ${p}`, undefined, [
        0,
        MISSING,
      ]);
      return r.code === MISSING ? undefined : r.stdout;
    },
    async writeText(key, text) {
      const p = shq(path(key));
      await sh(
        `cannot write ${path(key)}`,
        `mkdir -p "$(dirname ${p})" && cat > ${p}.tmp && mv ${p}.tmp ${p}`,
        text,
      );
    },
    async probeWrite() {
      const dir = shq(root);
      await sh(
        `cannot write into ${root}`,
        `mkdir -p ${dir} && p=${dir}/.drillbook-probe-$$ && : > "$p" && rm -f "$p"`,
      );
    },
    async removeBackup(label) {
      await sh(`cannot remove ${path(label)}`, `rm -rf ${shq(path(label))}`);
    },
    close: async () => ssh.dispose(),
  };
}
