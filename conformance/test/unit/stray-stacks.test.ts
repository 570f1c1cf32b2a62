import { strayStacksFitCache, strayStacksOf } from '../../harness/tree-probe';

describe('stray thread stacks of one process', () => {
  test('are the stack mappings beyond the live threads (the main thread has none)', () => {
    expect(strayStacksOf(4, 5)).toBe(0); // 4 threads besides the main one, each with its stack
    expect(strayStacksOf(29, 5)).toBe(25); // 25 finished threads nobody joined
  });
  test('are never negative: a process gone before its maps were read offsets nothing', () => {
    // its stat said 11 threads, its maps could no longer be read
    expect(strayStacksOf(0, 11)).toBe(0);
  });
});

describe('stray stacks and glibc\'s cache of freed stacks (40 MiB a process)', () => {
  const MiB = 1024 * 1024;
  const stacks = (count: number, size: number): { count: number; bytes: number } => ({ count, bytes: count * size });
  test('twenty of Rust\'s 2 MiB stacks, or five of 8 MiB (and the one being freed), may be the cache', () => {
    expect(strayStacksFitCache(stacks(20, 2 * MiB), 1)).toBe(true);
    expect(strayStacksFitCache(stacks(6, 8 * MiB), 1)).toBe(true);
    expect(strayStacksFitCache(stacks(24, 2 * MiB), 5)).toBe(true); // 4 live threads' stacks are not strays
  });
  test('more than the cache holds is a leak', () => {
    expect(strayStacksFitCache(stacks(25, 8 * MiB), 1)).toBe(false);
    expect(strayStacksFitCache(stacks(70, 2 * MiB), 1)).toBe(false);
  });
});
