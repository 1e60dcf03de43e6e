// Port checks: free before starting anything, answering once a server is up.
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { UserError } from '../errors.js';

export interface Endpoint {
  host: string;
  port: number;
  /** What listens there, named in error messages. */
  purpose: string;
  udp?: boolean;
}

export async function assertPortsFree(endpoints: readonly Endpoint[]): Promise<void> {
  for (const e of endpoints) {
    const problem =
      (await tcpBindProblem(e.host, e.port)) ?? (e.udp ? await udpBindProblem(e.host, e.port) : undefined);
    if (problem) {
      throw new UserError(
        `port ${e.host}:${e.port}${e.udp ? ' (tcp+udp)' : ''} for ${e.purpose} is not available: ${problem}; stop what uses it or choose another port (see drillbook lab up --help)`,
      );
    }
  }
}

function tcpBindProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(describeBindError(err)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

function udpBindProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(describeBindError(err));
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(undefined)));
  });
}

function describeBindError(err: NodeJS.ErrnoException): string {
  if (err.code === 'EADDRINUSE') return 'already in use';
  if (err.code === 'EACCES') return 'permission denied (ports below 1024 need root)';
  if (err.code === 'EADDRNOTAVAIL') return 'address not available on this machine';
  return err.message;
}

/** Whether something accepts TCP connections at host:port right now. */
export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
