import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectCases } from '../../cases/selection';
import { loadManifest } from '../../cli/manifest';
import { resolveTarget } from '../../harness/target';
import { referenceCommand, referenceTargets } from '../../reference';
import { partition, shareOf, targetCosts } from '../../shard';
import { cli, CliRun, leftBehindBy } from './run-cli';
import { scratchDir } from '../scratch';

interface JsonReport {
  implementations: { name: string; durationMs: number }[];
  cases: { implementation: string; id: string; outcome: string }[];
  shard?: { index: number; count: number; targets: string[] };
}

const dir = scratchDir('sm-shard');
const at = (name: string): string => join(dir, name);
const readJson = (file: string): JsonReport => JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
const outcomes = (r: JsonReport): string[] => r.cases.map((c) => `${c.implementation} ${c.id} ${c.outcome}`).sort();
const ONLY = ['--only', 'protocol.ack.*'];

/** A usage error: exit 2, one line on stderr matching `pattern`, no stack trace. */
function expectUsageError(r: CliRun, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

// Three cheap targets: C servers, three cases each at 100 ms.
const manifest = at('servers.json');
writeFileSync(manifest, JSON.stringify({
  targets: [
    { name: 'loop', cmd: referenceCommand('event-loop', 'c'), model: 'event-loop', delayMs: 100 },
    { name: 'pool', cmd: referenceCommand('thread-pool', 'c'), model: 'thread-pool', workers: 5, delayMs: 100 },
    { name: 'single', cmd: referenceCommand('single-process', 'c'), model: 'single-process', delayMs: 100 },
  ],
}));
const NAMES = ['loop', 'pool', 'single'];

describe('check --shard and merge-reports', () => {
  test('two shards balanced by an earlier run\'s durations, merged: the unsharded run\'s results, in its order and form', async () => {
    const whole = await cli('check', '--manifest', manifest, ...ONLY, '--json', at('whole.json'));
    expect(whole.code).toBe(0);
    const [one, two] = await Promise.all([1, 2].map((i) =>
      cli('check', '--manifest', manifest, ...ONLY, '--shard', `${i}/2`, '--durations', at('whole.json'), '--json', at(`shard-${i}.json`))));
    expect([one.code, two.code]).toEqual([0, 0]);
    for (const run of [whole, one, two]) expect(leftBehindBy(run.pid)).toEqual([]);

    // Each shard ran the share the partition gives from the recorded durations, and recorded the run.
    const recorded = new Map(readJson(at('whole.json')).implementations.map((i) => [i.name, i.durationMs]));
    const expected = partition(targetCosts(loadManifest(manifest).targets, selectCases(ONLY.slice(1)), recorded), 2);
    for (const [i, run] of [one, two].entries()) {
      const report = readJson(at(`shard-${i + 1}.json`));
      expect(report.shard).toEqual({ index: i + 1, count: 2, targets: NAMES });
      expect(report.implementations.map((impl) => impl.name)).toEqual(expected[i]);
      expect(run.stdout).toContain(`shard ${i + 1}/2: ${expected[i].length} of 3 targets (${expected[i].join(', ')})`);
    }

    const merged = await cli('merge-reports', at('shard-2.json'), at('shard-1.json'), '--json', at('merged.json'), '--junit', at('merged.xml'), '--html', at('merged.html'));
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(/^PASS {2}protocol\.ack\.single /m);
    expect(merged.stdout).toMatch(/^single: 3 passed, 0 failed/m);
    const unsharded = readJson(at('whole.json'));
    const joined = readJson(at('merged.json'));
    expect(Object.keys(joined)).toEqual(Object.keys(unsharded));
    expect(joined.implementations.map((impl) => impl.name)).toEqual(NAMES);
    expect(outcomes(joined)).toEqual(outcomes(unsharded));
    expect(readFileSync(at('merged.xml'), 'utf8')).toMatch(/<testsuite name="loop"[\s\S]*<testsuite name="pool"[\s\S]*<testsuite name="single"/);
    expect(existsSync(at('merged.html'))).toBe(true);
    expect(readFileSync(at('merged.html'), 'utf8')).toContain('single');

    // A shard left out is named.
    expectUsageError(await cli('merge-reports', at('shard-1.json')), /^server-models: shard 2\/2 is missing \(given: 1\/2 /);
  });

  test('a shard that gets no target says so, exits 0 and still writes its report', async () => {
    const r = await cli('check', '--manifest', manifest, ...ONLY, '--shard', '4/4', '--json', at('empty.json'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shard 4/4 gets no target (3 targets in 4 shards)');
    expect(readJson(at('empty.json'))).toMatchObject({ implementations: [], shard: { index: 4, count: 4, targets: NAMES } });
  });

  test('usage errors exit 2 with one line', async () => {
    for (const shard of ['0/2', '3/2', 'a/b']) expectUsageError(await cli('check', '--manifest', manifest, '--shard', shard), new RegExp(`--shard must be I/N.*"${shard}"`));
    expectUsageError(await cli('check', '--cmd', 'x', '--model', 'event-loop', '--shard', '1/2'), /--shard .* give --manifest/);
    expectUsageError(await cli('check', '--manifest', manifest, '--durations', manifest), /--durations .* with --shard/);
    expectUsageError(await cli('check', '--manifest', manifest, '--shard', '1/2', '--durations', at('nope.json')), /cannot read .*nope\.json: ENOENT/);
    expectUsageError(await cli('merge-reports', at('nope.json')), /cannot read .*nope\.json: ENOENT/);
    expectUsageError(await cli('merge-reports', manifest), /servers\.json is not a server-models JSON report/);
    expectUsageError(await cli('merge-reports'), /needs the JSON reports/);
    // shards of different runs: another count
    const report = (index: number, count: number) => ({ tool: 'server-models', version: '0.1.0', startedAt: new Date().toISOString(), durationMs: 1, timeoutMultiplier: 1, implementations: [], shard: { index, count, targets: NAMES } });
    writeFileSync(at('of-2.json'), JSON.stringify(report(1, 2)));
    writeFileSync(at('of-3.json'), JSON.stringify(report(2, 3)));
    expectUsageError(await cli('merge-reports', at('of-2.json'), at('of-3.json')), /shards of different runs/);
    expectUsageError(await cli('merge-reports', at('of-2.json'), at('of-2.json')), /of-2\.json is given twice/);
  });
});

describe('matrix --shard', () => {
  test('runs only its share of the reference servers', async () => {
    const json = at('matrix-1.json');
    const r = await cli('matrix', '--shard', '1/2', '--lang', 'c', '--only', 'protocol.ack.single', '--json', json);
    expect(r.code).toBe(0);
    expect(leftBehindBy(r.pid)).toEqual([]);
    const servers = referenceTargets(200).filter((s) => s.name.startsWith('c/')).map((s) => resolveTarget(s));
    const mine = shareOf(servers, { index: 1, count: 2 }, targetCosts(servers, selectCases(['protocol.ack.single']))).map((t) => t.name);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(servers.length);
    expect([...r.stdout.matchAll(/^── (\S+)/gm)].map((m) => m[1])).toEqual(mine);
    const report = readJson(json);
    expect(report.implementations.map((i) => i.name)).toEqual(mine);
    expect(report.shard).toEqual({ index: 1, count: 2, targets: servers.map((s) => s.name) });
  });
});
