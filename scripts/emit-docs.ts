// Writes the README's action reference (between its markers) from the action definitions.
import { readFileSync, writeFileSync } from 'node:fs';
import { readmeWithActions } from '../src/actions/readme.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, readmeWithActions(readFileSync(file, 'utf8')));
