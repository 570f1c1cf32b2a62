import { describeReference } from './reference-suite';

// The limit follows --workers, not a constant: a pool of 3 must measure exactly 3.
describeReference('prefork', 'ts', { workers: 3, cases: ['concurrency.limit', 'concurrency.limit.waiting-served'] });
describeReference('thread-pool', 'ts', { workers: 3, cases: ['concurrency.limit', 'concurrency.limit.waiting-served'] });
describeReference('prefork', 'c', { workers: 3, cases: ['concurrency.limit', 'concurrency.limit.waiting-served'] });
describeReference('thread-pool', 'c', { workers: 3, cases: ['concurrency.limit', 'concurrency.limit.waiting-served'] });
