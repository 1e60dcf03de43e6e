// Every `--json` output (run, resume and drill events, plan, validate, lab status, schedule list, the
// daemon's decisions) carries the version of its format, so a reader can tell before it parses on.
// report.json has its own `reportVersion`, a journal its header's `version`.

/** Bumped when a `--json` output changes in a way its readers must know about. */
export const FORMAT_VERSION = 1;

/** The JSON text of one `--json` document or line: `formatVersion` first, then the body. */
export const jsonOutput = (body: object, indent?: number) =>
  JSON.stringify({ formatVersion: FORMAT_VERSION, ...body }, null, indent);
