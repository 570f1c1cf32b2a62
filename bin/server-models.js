#!/usr/bin/env node
'use strict';
// The CLI is written in TypeScript and compiled by `npm run build` (run by `npm ci` through `prepare`).
try {
  require('../dist/conformance/cli/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]conformance[\\/]cli/.test(String(err.message))) {
    process.stderr.write('server-models: the kit is not built yet; run `npm run build` (or `npm ci`) first.\n');
    process.exit(2);
  }
  throw err;
}
