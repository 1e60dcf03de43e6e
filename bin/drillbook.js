#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by npm run build (fast start-up).
import { main, useSmallHeap } from '../dist/bundle/drillbook.js';

useSmallHeap();
process.exitCode = await main(process.argv);
