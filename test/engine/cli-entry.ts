// The CLI from source, for tests that need a real process (kill -9, Ctrl-C, two concurrent runs).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
