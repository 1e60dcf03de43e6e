// Bundles the CLI into one file: loading ~300 small modules cost more than everything `validate`
// does, so the entry point is a single file. Heavy clients (pg, ssh, Slack, AWS) stay external and
// are imported lazily by the commands and actions that use them.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/bundle',
  entryNames: 'drillbook',
  // Chunks sit beside the entry: modules that find files relative to themselves (validators) must
  // resolve the same way from any chunk.
  chunkNames: '[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifySyntax: true,
  sourcemap: true,
  // Small pure-JS libraries on the validate path are bundled; commands load their own code through
  // dynamic imports (separate chunks), and these stay in node_modules.
  external: [
    'pg',
    'node-ssh',
    'ssh2',
    '@slack/web-api',
    '@aws-sdk/*',
    'listr2',
    'ajv',
    'ajv-formats',
    'p-retry',
  ],
  banner: {
    js: "import { createRequire as __drillbookRequire } from 'node:module'; const require = __drillbookRequire(import.meta.url);",
  },
});
