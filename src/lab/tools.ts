// The programs the lab runs, found once at `lab up`.
import { findPgBinDir, findProgram, requireFile } from '../system/binaries.js';

export interface LabTools {
  pgBinDir: string;
  haproxy: string;
  sshd: string;
  sshKeygen: string;
  pdnsServer: string;
  sqlite3: string;
  pdnsSchema: string;
}

const PDNS_SQLITE_SCHEMA = '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql';

export function findTools(pgBinDir: string | undefined): LabTools {
  return {
    pgBinDir: findPgBinDir(pgBinDir),
    haproxy: findProgram('haproxy', 'haproxy'),
    sshd: findProgram('sshd', 'openssh-server'),
    sshKeygen: findProgram('ssh-keygen', 'openssh-client'),
    pdnsServer: findProgram('pdns_server', 'pdns-server'),
    sqlite3: findProgram('sqlite3', 'sqlite3'),
    pdnsSchema: requireFile(PDNS_SQLITE_SCHEMA, 'pdns-backend-sqlite3'),
  };
}
