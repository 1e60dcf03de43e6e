// The environment a child process inherits: never the run's secrets unless a step asks for them.

/** `secrets.NAME` in an expression reads this environment variable: DRILLBOOK_SECRET_NAME. */
export const SECRET_ENV_PREFIX = 'DRILLBOOK_SECRET_';

/**
 * Our environment for a child process (shell steps, tools, lab servers): without the
 * DRILLBOOK_SECRET_* variables, except those of `names` (the secrets.NAME a step reads).
 */
export function childEnv(names: Iterable<string> = []): NodeJS.ProcessEnv {
  const allowed = new Set([...names].map((name) => SECRET_ENV_PREFIX + name));
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith(SECRET_ENV_PREFIX) || allowed.has(key)),
  );
}
