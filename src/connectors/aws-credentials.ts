// Static AWS credentials from secret references, or undefined to let the SDK find its own
// (environment, shared config, instance role). Shared by Route 53 and S3.
export async function awsCredentials(
  accessKeyId: string | undefined,
  secretAccessKey: string | undefined,
  secret: (ref: string) => Promise<string>,
): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId: await secret(accessKeyId), secretAccessKey: await secret(secretAccessKey) };
}
