#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by npm run build (fast start-up).
import { main } from '../dist/bundle/drillbook.js';

process.exitCode = await main(process.argv);
