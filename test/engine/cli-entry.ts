// The CLI from source, for tests that need a real process (kill -9, Ctrl-C, two concurrent runs):
// started as bin/drillbook.js starts it.
import { useSmallHeap } from '../../src/system/small-heap.js';

useSmallHeap();
const { main } = await import('../../src/cli/main.js');
process.exitCode = await main(process.argv);
