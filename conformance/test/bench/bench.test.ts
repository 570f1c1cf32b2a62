import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { BenchReport } from '../../bench/bench-report';
import { cBenchBinary } from '../../bench/c-baselines';
import { measureRatioRounds, RatioRounds, ratiosFrom } from '../../bench/ratios';
import { fdLimits } from '../../bench/fd-limit';
import { runLoad, shareConnections } from '../../bench/load-generator';
import { makeDeadlines } from '../../harness/deadlines';
import { launchTarget, stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { referenceCommand, referenceTarget } from '../../reference';
import { renderBenchHtml, renderRatioTable, renderThroughputSvg } from '../../reports/bench-html';
import { cli } from '../cli/run-cli';
import { scratchDir } from '../scratch';

afterAll(() => stopAllTargets());

describe('bench: load generator', () => {
  test('connections are shared evenly among threads', () => {
    expect(shareConnections(10, 3)).toEqual([4, 3, 3]);
    expect(shareConnections(1, 4)).toEqual([1]);
    expect(shareConnections(100, 1)).toEqual([100]);
  });

  test('closed loop against the TypeScript event loop: acks counted, latency percentiles ordered', async () => {
    const server = await launchTarget(resolveTarget({ ...referenceTarget('event-loop', 'ts', 0) }), makeDeadlines(0, 1));
    const r = await runLoad({ host: server.host, port: server.port, connections: 4, pipeline: 2, warmupMs: 100, durationMs: 400, threads: 2 });
    expect(r.errors).toBe(0);
    expect(r.threads).toBe(2);
    expect(r.acks).toBeGreaterThan(100);
    // per-thread rates, summed: close to all acks over the longest window
    expect(r.msgsPerSec).toBeGreaterThanOrEqual((r.acks * 1000) / r.measuredMs);
    expect(r.msgsPerSec).toBeLessThan((r.acks * 1000 * 1.5) / r.measuredMs);
    expect(r.latencyUs.p50).toBeLessThanOrEqual(r.latencyUs.p99);
    expect(r.latencyUs.p99).toBeLessThanOrEqual(r.latencyUs.p999);
    expect(r.latencyUs.p999).toBeLessThanOrEqual(r.latencyUs.max);
    await server.stop();
  });

  test('with messages pipelined, each latency runs from its own send to its own ack', async () => {
    const delayMs = 50;
    const server = await launchTarget(resolveTarget({ ...referenceTarget('event-loop', 'ts', delayMs) }), makeDeadlines(delayMs, 1));
    const r = await runLoad({ host: server.host, port: server.port, connections: 2, pipeline: 3, warmupMs: 200, durationMs: 600, threads: 1 });
    expect(r.errors).toBe(0);
    // The server answers a connection's messages one after another, each after the delay: with 3 in
    // flight, an ack comes 3 delays after its message was sent (a mixed-up send time would say 1).
    expect(r.latencyUs.p50).toBeGreaterThanOrEqual(3 * delayMs * 1000 * 0.9);
    expect(r.latencyUs.max).toBeLessThan(3 * delayMs * 1000 * 4);
    await server.stop();
  });

  test('the descriptor limit is read from /proc', () => {
    const limits = fdLimits();
    expect(limits?.soft).toBeGreaterThan(0);
    expect(limits?.hard).toBeGreaterThanOrEqual(limits?.soft ?? 0);
  });
});

describe('server-models bench (smoke run, tiny durations)', () => {
  test('levels, C10K step, JSON and HTML', async () => {
    const dir = scratchDir('sm-bench');
    const json = join(dir, 'bench.json');
    const html = join(dir, 'bench.html');
    const r = await cli('bench', '--cmd', referenceCommand('event-loop', 'ts'), '--name', 'ts/event-loop', '--connections', '1,8', '--duration', '0.3', '--warmup', '0.1', '--c10k', '300', '--json', json, '--html', html);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ts\/event-loop +1 +[\d,]+ /m);
    expect(r.stdout).toMatch(/C10K: 300\/300 acked/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.implementations[0].levels.map((l) => l.connections)).toEqual([1, 8]);
    expect(report.implementations[0].levels.every((l) => (l.result?.acks ?? 0) > 0)).toBe(true);
    const c10k = report.implementations[0].c10k;
    expect(c10k && !('skipped' in c10k) ? c10k.acked : 0).toBe(300);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(XMLValidator.validate(renderThroughputSvg(report))).toBe(true);
  });

  test('load goes to loopback only; bad flags exit 2 with one line', async () => {
    for (const args of [
      ['--cmd', 'x', '--host', '10.0.0.1'],
      ['--all', '--cmd', 'x'],
      [],
      ['--cmd', 'x', '--connections', '1,zero'],
      ['--cmd', 'x', '--duration', '1000'],
    ]) {
      const r = await cli('bench', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('bench: the tracked ratios, at pipeline 1 and 8', () => {
  const rounds: RatioRounds = new Map([
    ['c/minimal-epoll (baseline)', new Map([[1, [100, 50, 200]], [8, [800]]])],
    ['c/event-loop', new Map([[1, [99, 45, 220]], [8, [720]]])],
  ]);

  test("the median of the rounds' ratios, each pipeline beside its goal; a pair missing a side is left out", () => {
    const ratios = ratiosFrom(rounds);
    expect(ratios.map((r) => [r.label, r.pipeline, r.numeratorMsgsPerSec, r.denominatorMsgsPerSec, r.goal])).toEqual([
      ['C event-loop vs minimal C epoll server', 1, 99, 100, 0.95],
      ['C event-loop vs minimal C epoll server', 8, 720, 800, 0.9],
    ]);
    // the rounds' ratios are 0.99, 0.9 and 1.1
    expect(ratios.map((r) => r.value)).toEqual([0.99, 0.9]);
    expect(ratios.map((r) => r.rounds)).toEqual([3, 1]);
  });

  test('the HTML report has one row per pair, one column per pipeline, goals met or missed', () => {
    const report: BenchReport = {
      tool: 'server-models bench', version: '0', startedAt: '2026-12-02T00:00:00Z', durationMs: 1,
      machine: { cpus: 2, cpuModel: 'x', node: 'v20', kernel: '6' },
      settings: { connections: [100], durationMs: 1000, warmupMs: 1000, pipeline: 1, threads: 1 },
      fdNote: '', implementations: [], ratios: ratiosFrom(rounds),
    };
    const table = renderRatioTable(report);
    expect(XMLValidator.validate(table)).toBe(true);
    expect(table).toMatch(/<th>pipeline 1<\/th><th>pipeline 8<\/th>/);
    expect(table).toContain('<b>0.99×</b> (goal ≥ 0.95×)');
    expect(table).toContain('<b>0.90×</b> (goal ≥ 0.9×)');
    expect(table).not.toContain('missed');
    expect(renderBenchHtml(report)).toContain(table);
    expect(renderRatioTable({ ...report, ratios: [] })).toBe('');
    // just under its goal: rounded down, so it does not read as met
    const under = renderRatioTable({ ...report, ratios: [{ ...report.ratios[0], value: 0.9452 }] });
    expect(under).toContain('<b>0.94×</b> (goal ≥ 0.95×)');
    expect(under).toContain('missed');
  });

  const client = cBenchBinary('closed-loop-client');
  const minimal = cBenchBinary('minimal-epoll-server');
  const c = referenceTarget('event-loop', 'c', 0);
  const ts = referenceTarget('event-loop', 'ts', 0);
  (client && minimal && c.available ? test : test.skip)('measured by the C closed-loop client on each server, at both pipelines (tiny durations)', async () => {
    const targets = [
      resolveTarget({ name: 'c/minimal-epoll (baseline)', cmd: `${JSON.stringify(minimal)} --port {port}`, model: 'event-loop', readyLine: true }),
      resolveTarget(c),
      resolveTarget(ts),
    ];
    const steps: string[] = [];
    const measured = await measureRatioRounds(targets, client ?? '', { warmupMs: 100, durationMs: 300, multiplier: 1, rounds: 1 }, (step) => steps.push(step));
    for (const t of targets) {
      expect(measured.get(t.name)?.get(1)?.[0]).toBeGreaterThan(0);
      expect(measured.get(t.name)?.get(8)?.[0]).toBeGreaterThan(0);
    }
    expect(steps).toHaveLength(6);
    expect(ratiosFrom(measured).map((r) => `${r.numerator} ${r.pipeline}`)).toEqual(['c/event-loop 1', 'c/event-loop 8', 'ts/event-loop 1', 'ts/event-loop 8']);
  });
});
