import { strayStacksOf } from '../../harness/tree-probe';

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
