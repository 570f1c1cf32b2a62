import type { Config } from 'jest';
import { availableParallelism } from 'node:os';
import { FULL_ONLY_FILES, LONG_ONLY_FILES, SPLIT_FILES, TIER } from './conformance/test/tier';

// The tiers (conformance/test/tier.ts): `npm test` leaves out the long runs, `npm run test:long` runs
// only those that fit in CI (the long-only files and the long part of the split ones), `npm run
// test:full` everything.
const ignored = TIER === 'quick' ? [...LONG_ONLY_FILES, ...FULL_ONLY_FILES] : TIER === 'long' ? FULL_ONLY_FILES : [];
const escape = (path: string): string => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const files = TIER === 'long'
  ? { testRegex: `(${[...LONG_ONLY_FILES, ...SPLIT_FILES].map(escape).join('|')}).*\\.test\\.ts$` }
  : { testMatch: ['**/*.test.ts'] };

// Type errors are caught by `tsc --noEmit` in `npm test`; ts-jest only transpiles (isolatedModules).
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/conformance', '<rootDir>/servers', '<rootDir>/fixtures'],
  ...files,
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/fixtures/example-project/', '/fixtures/kill-scenarios/', ...ignored],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Suites start real servers: a worker per core (at least two), and generous per-test time. Two per
  // core took the quick tier from 493 s to 422 s on 2 cores, but stalled a test's server start for over
  // 10 s in 2 soak runs (never in 7 with one per core).
  maxWorkers: Math.max(2, availableParallelism()),
  testTimeout: 300_000,
  // test.concurrent: a reference suite runs four cases at a time (each on its own server), the mutant
  // self-test four mutants per file (each running its own cases side by side).
  maxConcurrency: 4,
  verbose: false,
  reporters: ['default'],
};

export default config;
