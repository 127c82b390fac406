#!/usr/bin/env node
'use strict';
// The `runcast` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the `prepare` script) or `npm run build`.
let cli;
try {
  cli = require('../dist/src/cli/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(String(err.message))) {
    console.error('runcast is not built yet: run `npm run build` (npm install does it) in ' + require('path').resolve(__dirname, '..'));
    process.exit(2);
  }
  throw err;
}
// `runcast run --json | head -1`: a closed pipe ends the command quietly.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0);
  throw err;
});
cli.main(process.argv).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err && err.message ? err.message : err); process.exitCode = 2; },
);
