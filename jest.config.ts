import type { Config } from 'jest';

// Type errors are caught by `tsc --noEmit` in `npm test`; ts-jest only transpiles (isolatedModules).
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/conformance', '<rootDir>/servers', '<rootDir>/fixtures'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/fixtures/example-project/', '/fixtures/kill-scenarios/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Suites start real servers; two workers on a 2-core machine, and generous per-test time.
  maxWorkers: 2,
  testTimeout: 300_000,
  // test.concurrent (the mutant self-test) runs two mutants at a time per file.
  maxConcurrency: 2,
  verbose: false,
  reporters: ['default'],
};

export default config;
