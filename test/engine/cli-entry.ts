// The CLI from source, for tests that need a real process (kill -9, Ctrl-C, two concurrent runs):
// started as bin/drillbook.js starts it.
import { main, useSmallHeap } from '../../src/cli/main.js';

useSmallHeap();
process.exitCode = await main(process.argv);
