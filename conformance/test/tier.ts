/**
 * The test tiers. `npm test` runs the quick tier; `npm run test:long` (SM_TIER=long) the long runs it
 * leaves out that fit in CI's time; `npm run test:full` (SM_TIER=full) both, plus what takes longer than
 * CI may: the rest of the mutant × case matrix (also `npm run mutants`), every launch style against all
 * six servers, the memory peaks and ten of the reference servers over a Unix socket. CI runs the quick
 * and the long tier.
 */
export type Tier = 'quick' | 'long' | 'full';

export function resolveTier(env: NodeJS.ProcessEnv = process.env): Tier {
  const raw = env.SM_TIER ?? 'quick';
  if (raw === 'quick' || raw === 'long' || raw === 'full') return raw;
  throw new Error(`SM_TIER must be quick, long or full, got ${JSON.stringify(raw)}`);
}

export const TIER: Tier = resolveTier();
/** This run holds the long tier's tests. */
export const RUNS_LONG = TIER !== 'quick';

/** Test files the quick tier leaves out: the long tier runs them (and the full one). */
export const LONG_ONLY_FILES = [
  '/conformance/test/harness/kill-scenarios', '/conformance/test/cli/strangers',
  // a packed tarball and the example project installed as a user would: npm and a C build, a minute or more
  '/conformance/test/cli/installed-package', '/conformance/test/cli/example-project',
];
/**
 * Test files neither the quick nor the long tier runs: only the full one. The ten reference servers
 * the quick tier does not run over a Unix socket take 3 minutes more than CI's 15 may hold.
 */
export const FULL_ONLY_FILES = ['/conformance/test/stress/', '/conformance/test/suite/unix-long'];
/** Test files with a part in each tier: in the long tier they run only their long part. */
export const SPLIT_FILES = ['/conformance/test/suite/launchers-', '/conformance/test/fuzz/protocol-fuzz'];
