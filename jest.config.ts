import type { Config } from 'jest';
import { availableParallelism } from 'node:os';

// `npm test` leaves out the long runs; `npm run test:full` (SM_FULL=1) has them: memory peaks under
// floods and the kill scenarios (a real inner Jest killed every way). The mutant matrix and the fuzz
// read SM_FULL themselves.
const FULL_ONLY = process.env.SM_FULL === '1' ? [] : ['/conformance/test/stress/', '/conformance/test/harness/kill-scenarios'];

// Type errors are caught by `tsc --noEmit` in `npm test`; ts-jest only transpiles (isolatedModules).
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/conformance', '<rootDir>/servers', '<rootDir>/fixtures'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/fixtures/example-project/', '/fixtures/kill-scenarios/', ...FULL_ONLY],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Suites start real servers: a worker per core (at least two), and generous per-test time.
  maxWorkers: Math.max(2, availableParallelism()),
  testTimeout: 300_000,
  // test.concurrent: a reference suite runs four cases at a time (each on its own server), the mutant
  // self-test four mutants per file (each running its own cases side by side).
  maxConcurrency: 4,
  verbose: false,
  reporters: ['default'],
};

export default config;
