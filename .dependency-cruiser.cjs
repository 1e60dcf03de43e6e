// The layer order of src/ (README, "Development"), enforced by `npm run lint`.
// A module may import its own layer and the layers below it, never one above.
/** Top to bottom; directories on one line are one layer. Root files (errors.ts, ...) are the bottom. */
const LAYERS = [
  ['cli'],
  ['serve'],
  ['drill', 'schedule'],
  ['report'],
  ['engine'],
  ['runbook'],
  ['actions'],
  ['backup', 'connectors'],
  ['system', 'schema'],
];

const dirs = (names) => `^src/(${names.join('|')})/`;

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join('/')} may not import a layer above it (${LAYERS.slice(0, i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: dirs(layer) },
  to: { path: dirs(LAYERS.slice(0, i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'root-files-are-the-bottom',
      comment: 'errors.ts, duration.ts, cron.ts, ... are used everywhere and import only each other',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'lab-is-a-user',
      comment: 'the lab is a user of the library: nothing in src but cli imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: dirs(['cli', 'lab']) },
      to: { path: dirs(['lab']) },
    },
    {
      name: 'lab-below-drill',
      comment: 'the lab builds what drills run against; it imports the library, not drills or the CLI',
      severity: 'error',
      from: { path: dirs(['lab']) },
      to: { path: dirs(['cli', 'drill', 'schedule', 'report']) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
