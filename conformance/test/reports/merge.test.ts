import { CaseResult } from '../../cases/types';
import { mergeReports, MergeError, ReportFile } from '../../reports/merge';
import { ImplementationReport, RunReport, ShardInfo } from '../../reports/run-report';

const pass = (id: string): CaseResult => ({ id, level: 'MUST', title: id, outcome: 'pass', durationMs: 10 });
const impl = (name: string): ImplementationReport => ({ name, model: 'event-loop', cmd: name, delayMs: 100, limit: 'unbounded', cases: [pass('protocol.ack.single')], durationMs: 50 });
const TARGETS = ['a', 'b', 'c'];

function file(name: string, implementations: string[], extra: Partial<RunReport> & { shard?: ShardInfo } = {}): ReportFile {
  return {
    file: name,
    report: { tool: 'server-models', version: '0.1.0', startedAt: '2026-01-01T00:00:10.000Z', durationMs: 1000, timeoutMultiplier: 1, implementations: implementations.map(impl), ...extra },
  };
}
const shard = (index: number, names: string[], extra: Partial<RunReport> = {}, count = 2, targets = TARGETS): ReportFile =>
  file(`shard-${index}.json`, names, { shard: { index, count, targets }, ...extra });

describe('mergeReports', () => {
  test('shards: the run order restored, the earliest start, the longest shard, no shard field', () => {
    const merged = mergeReports([
      shard(2, ['b'], { startedAt: '2026-01-01T00:00:05.000Z', durationMs: 700 }),
      shard(1, ['a', 'c'], { durationMs: 2000 }),
    ]);
    expect(merged.implementations.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    expect(merged.startedAt).toBe('2026-01-01T00:00:05.000Z');
    expect(merged.durationMs).toBe(2000);
    expect(Object.keys(merged)).toEqual(['tool', 'version', 'startedAt', 'durationMs', 'timeoutMultiplier', 'implementations']);
  });

  test('an empty shard (more shards than targets) counts as given', () => {
    expect(mergeReports([shard(1, ['a', 'b', 'c'], {}, 2), shard(2, [], {}, 2)]).implementations).toHaveLength(3);
  });

  test('a missing shard is named, with those given', () => {
    expect(() => mergeReports([shard(1, ['a'], {}, 3)])).toThrow('shards 2/3, 3/3 are missing (given: 1/3 (shard-1.json))');
    expect(() => mergeReports([shard(2, ['b'])])).toThrow(/^shard 1\/2 is missing/);
  });

  test('a shard given twice; shards of different runs; different kits', () => {
    expect(() => mergeReports([shard(1, ['a']), { ...shard(1, ['a']), file: 'again.json' }, shard(2, ['b', 'c'])])).toThrow('shard 1/2 is given twice: shard-1.json and again.json');
    expect(() => mergeReports([shard(1, ['a']), shard(2, ['b'], {}, 3)])).toThrow(/shard of 3, shard-1\.json of 2: shards of different runs/);
    expect(() => mergeReports([shard(1, ['a']), shard(2, ['b'], {}, 2, ['a', 'b'])])).toThrow(/target lists differ/);
    expect(() => mergeReports([shard(1, ['a']), shard(2, ['b'], { version: '0.2.0' })])).toThrow(/server-models 0\.2\.0/);
    expect(() => mergeReports([shard(1, ['a']), file('whole.json', ['b'])])).toThrow(/shard-1\.json is a shard of a run, whole\.json is not/);
  });

  test('whole reports: in the order given when their implementations differ, refused when they overlap', () => {
    expect(mergeReports([file('x.json', ['b']), file('y.json', ['a'])]).implementations.map((i) => i.name)).toEqual(['b', 'a']);
    expect(() => mergeReports([file('x.json', ['a']), file('y.json', ['a'])])).toThrow(MergeError);
    expect(() => mergeReports([])).toThrow(MergeError);
  });
});
