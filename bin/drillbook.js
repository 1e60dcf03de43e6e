#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by npm run build (fast start-up).
import { useSmallHeap } from '../dist/system/small-heap.js';

// Before the CLI's code loads: loading it allocates enough for V8 to grow the young generation.
useSmallHeap();
const { main } = await import('../dist/bundle/drillbook.js');
process.exitCode = await main(process.argv);
