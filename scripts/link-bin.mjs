// `npx switchboard` looks in node_modules/.bin, which npm fills only with dependencies' bins,
// not the project's own. Linking it there makes the documented command work after `npm ci`.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';

mkdirSync('node_modules/.bin', { recursive: true });
rmSync('node_modules/.bin/switchboard', { force: true });
symlinkSync('../../bin/switchboard.js', 'node_modules/.bin/switchboard');
