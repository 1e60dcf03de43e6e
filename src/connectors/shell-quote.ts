// Every value from an inventory or a runbook that reaches a shell command line goes through shq.

/** Quotes a value for a POSIX shell. */
export const shq = (value: string | number) => `'${String(value).replace(/'/g, `'\\''`)}'`;
