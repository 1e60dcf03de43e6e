// Where backups live, as a step's `with:` names it: a local directory, a directory on an inventory
// SSH host, or an S3 bucket. Schema only (no client code), so validate stays light.
import { Type, type Static } from '@sinclair/typebox';
import { UserError } from '../../errors.js';
import { OneOf, SecretRef, Strict, Target, Text } from '../../schema/common.js';

export const StorageSpec = Strict(
  {
    type: OneOf(['local', 'ssh', 's3'], { description: 'local directory, directory on an SSH host, or S3' }),
    path: Type.Optional(Text('directory of the backups and their catalog.json (local, ssh)')),
    host: Type.Optional(Target('ssh', 'inventory SSH host that holds the directory (ssh)')),
    bucket: Type.Optional(Text('S3 bucket')),
    prefix: Type.Optional(Text('S3 key prefix (default: none)')),
    region: Type.Optional(Text('S3 region (default us-east-1)')),
    endpoint: Type.Optional(Text('S3 endpoint URL (an S3-compatible service; path-style requests)')),
    accessKeyId: Type.Optional(SecretRef),
    secretAccessKey: Type.Optional(SecretRef),
  },
  { description: 'where the backups and their catalog live' },
);

export type StorageSpec = Static<typeof StorageSpec>;

/** The fields each type needs, checked before anything connects. */
export function checkStorageSpec(spec: StorageSpec, stepId: string): void {
  const need = (field: keyof StorageSpec) => {
    if (!spec[field]) throw new UserError(`step ${stepId}: storage type ${spec.type} needs ${field}`);
  };
  if (spec.type === 's3') {
    need('bucket');
    if (Boolean(spec.accessKeyId) !== Boolean(spec.secretAccessKey)) {
      throw new UserError(`step ${stepId}: give both accessKeyId and secretAccessKey, or neither`);
    }
    return;
  }
  need('path');
  if (spec.type === 'ssh') need('host');
  if (!spec.path!.startsWith('/')) {
    throw new UserError(`step ${stepId}: storage path must be absolute, got ${spec.path}`);
  }
}

export function describeStorage(spec: StorageSpec): string {
  if (spec.type === 's3') return `s3://${spec.bucket}/${spec.prefix ?? ''}`;
  return spec.type === 'ssh' ? `${spec.host}:${spec.path}` : spec.path!;
}
