import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { BenchReport } from '../../bench/bench-report';
import { fdLimits } from '../../bench/fd-limit';
import { runLoad, shareConnections } from '../../bench/load-generator';
import { makeDeadlines } from '../../harness/deadlines';
import { launchTarget, stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { referenceCommand, referenceTarget } from '../../reference';
import { renderThroughputSvg } from '../../reports/bench-html';
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
