import { cpus, release } from 'node:os';
import { makeDeadlines } from '../harness/deadlines';
import { launchTarget } from '../harness/launcher';
import { MODEL_TRAITS } from '../harness/models';
import { onUnixSocket, resolveTarget, Target } from '../harness/target';
import { ensureCServers, referenceTarget, referenceTargets } from '../reference';
import { BenchImplementation, BenchLevel, BenchRatio, BenchReport, GeneratorCheck } from '../bench/bench-report';
import { measureRatioRounds, median, RATIO_PAIRS, RATIO_ROUNDS, ratiosFrom, ratioText } from '../bench/ratios';
import { BenchSettings, BenchTarget, benchTarget } from '../bench/bench-target';
import { cBenchBinary, runCClient } from '../bench/c-baselines';
import { ensureFdBudget } from '../bench/fd-limit';
import { runLoad } from '../bench/load-generator';
import { renderBenchHtml } from '../reports/bench-html';
import { kitVersion } from './run-targets';
import { ProgressLine } from './progress';
import { HELP_FLAG, helpAsked, intFlag, parseFlags, stringFlags, UsageError } from '../flags';
import { writeReportFile } from './write-reports';
import { modelFlag, multiplierFlag, TARGET_FLAGS, targetFromFlags } from './shared-flags';

export const BENCH_HELP = `Usage: server-models bench --cmd "<command>" [options]
       server-models bench --all [options]

Closed-loop load at work delay 0: every connection keeps --pipeline messages in flight and sends the
next as soon as an ack arrives. Reports msgs/s and latency percentiles (HDR histogram) per level.
Traffic goes to loopback only; every run is bounded in time.

  --cmd <command>            the server; {port}, {delayMs} (given 0) and {workers} are substituted
  --name <name>              name in the report (default: the command)
  --model <model>            its model, for {workers} defaults (default event-loop)
  --workers <n>              pool size for {workers}
  --all                      every reference server (TypeScript and C) and the minimal C epoll server;
                             adds the load generator check, C10K, and the two tracked ratios at
                             100 connections, pipeline 1 and 8, by the C closed-loop client
  --connections <list>       connection levels (default 1,10,100,1000; at most 20000)
  --duration <s>             measured seconds per level (default 5, at most 120)
  --warmup <s>               unmeasured seconds before each level (default 1)
  --pipeline <k>             messages in flight per connection (default 1, at most 256)
  --threads <n>              load generator threads (default 1)
  --c10k <n>                 also hold n connections at once, one message each (default with --all: 10000)
  --timeout-multiplier <x>   scale start-up deadlines
  --json <file>              results as JSON
  --html <file>              chart and tables, one self-contained page
  -h, --help                 this help`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function parseLevels(text: string | undefined): number[] {
  if (text === undefined) return [1, 10, 100, 1000];
  const levels = text.split(',').map((s) => s.trim());
  if (levels.some((l) => !/^\d+$/.test(l) || Number(l) < 1 || Number(l) > 20_000)) {
    throw new UsageError(`--connections must be a comma-separated list of integers 1..20000, got "${text}"`);
  }
  return levels.map(Number);
}

function seconds(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max) throw new UsageError(`--${name} must be a number of seconds in (0, ${max}], got "${value}"`);
  return n;
}

/** The reference servers, the baseline, and what each can sensibly be given. */
function allBenchTargets(): BenchTarget[] {
  ensureCServers(); // built on first use where the package has no build of its own; missing ones are left out
  const targets: BenchTarget[] = referenceTargets(0)
    .filter((s) => s.available)
    .map((s) => ({
      target: resolveTarget(s),
      c10k: MODEL_TRAITS[s.model].manySockets,
      // A Node.js process per connection costs ~40 MiB: a thousand would not fit this kind of machine.
      ...(s.name === 'ts/fork-per-connection' ? { maxConnections: 100, capReason: 'a Node.js process per connection (~40 MiB each): capped at 100' } : {}),
    }));
  const minimal = cBenchBinary('minimal-epoll-server');
  if (minimal) {
    targets.push({
      target: resolveTarget({ name: 'c/minimal-epoll (baseline)', cmd: `${JSON.stringify(minimal)} --port {port}`, model: 'event-loop', readyLine: true }),
      baseline: true,
      c10k: true,
    });
  }
  return targets;
}

function singleTarget(values: Record<string, string | boolean | undefined>): BenchTarget {
  const target = targetFromFlags({
    name: (values.name as string | undefined) ?? (values.cmd as string),
    cmd: values.cmd as string,
    model: modelFlag((values.model as string | undefined) ?? 'event-loop'),
    workers: intFlag(values.workers, 'workers', 1),
  });
  return { target, c10k: true };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A name cut to fit the table's first column. */
function column(name: string): string {
  return (name.length > 27 ? `${name.slice(0, 26)}…` : name).padEnd(28);
}

function levelLine(name: string, level: BenchLevel): string {
  const head = `${column(name)}${String(level.connections).padStart(6)}`;
  if (!level.result) return `${head}  ${level.skipped ?? 'not run'}`;
  const r = level.result;
  const l = r.latencyUs;
  const mib = level.rssBytes !== undefined ? `${(level.rssBytes / 1048576).toFixed(1)}` : '-';
  return `${head}${fmt(r.msgsPerSec).padStart(11)}${fmt(l.p50).padStart(9)}${fmt(l.p90).padStart(9)}${fmt(l.p99).padStart(9)}${fmt(l.p999).padStart(10)}${mib.padStart(9)}${r.errors ? `  ${r.errors} errors: ${r.firstError}` : ''}`;
}

const TABLE_HEAD = `${'implementation'.padEnd(28)}${'conns'.padStart(6)}${'msgs/s'.padStart(11)}${'p50 µs'.padStart(9)}${'p90 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'p99.9 µs'.padStart(10)}${'RSS MiB'.padStart(9)}`;

/** The minimal epoll server, the C event loop and the TypeScript event loop, where each is there. */
function ratioTargets(targets: BenchTarget[]): Target[] {
  const names = new Set(RATIO_PAIRS.flatMap((p) => [p.numerator, p.denominator]));
  return targets.map((t) => t.target).filter((t) => names.has(t.name));
}

/** One line per pair: its ratio at each pipeline, beside the goal. */
function ratioLines(ratios: BenchRatio[]): string[] {
  return RATIO_PAIRS.flatMap((pair) => {
    const own = ratios.filter((r) => r.label === pair.label);
    if (own.length === 0) return [];
    const each = own.map((r) => `pipeline ${r.pipeline} ${ratioText(r.value)} (${fmt(r.numeratorMsgsPerSec)} / ${fmt(r.denominatorMsgsPerSec)} msgs/s, goal ≥ ${r.goal}×)`);
    return [`${pair.label} at ${own[0].connections} connections, C closed-loop client, median of ${own[0].rounds} rounds: ${each.join('; ')}`];
  });
}

/** Rounds of the load generator check: each runs our generator, then the C client. */
const GENERATOR_CHECK_ROUNDS = 3;

/** Our generator and the minimal C client, taking turns against one C event-loop server. */
async function checkGenerator(settings: BenchSettings, progress: ProgressLine): Promise<GeneratorCheck | undefined> {
  const client = cBenchBinary('closed-loop-client');
  const spec = referenceTarget('event-loop', 'c', 0);
  if (!client || !spec.available) return undefined;
  const server = await launchTarget(resolveTarget(spec), makeDeadlines(0, settings.multiplier));
  try {
    const rounds: GeneratorCheck['rounds'] = [];
    for (let i = 1; i <= GENERATOR_CHECK_ROUNDS; i++) {
      progress.show(`load generator check, round ${i}/${GENERATOR_CHECK_ROUNDS}: our generator at 100 connections …`);
      const ours = await runLoad({ host: server.host, port: server.port, connections: 100, pipeline: settings.pipeline, warmupMs: settings.warmupMs, durationMs: settings.durationMs, threads: settings.threads });
      progress.show(`load generator check, round ${i}/${GENERATOR_CHECK_ROUNDS}: the minimal C client at 100 connections …`);
      const c = await runCClient(client, server.host, server.port, 100, settings.pipeline, settings.warmupMs, settings.durationMs);
      rounds.push({ generator: ours.msgsPerSec, cClient: c.msgsPerSec });
    }
    const generatorMsgsPerSec = median(rounds.map((r) => r.generator));
    const cClientMsgsPerSec = median(rounds.map((r) => r.cClient));
    return { server: spec.name, connections: 100, rounds, generatorMsgsPerSec, cClientMsgsPerSec, ratio: generatorMsgsPerSec / cClientMsgsPerSec };
  } finally {
    await server.stop();
  }
}

/** `server-models bench`: returns the exit code. */
export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    ...TARGET_FLAGS,
    all: { type: 'boolean' },
    ...stringFlags('connections', 'duration', 'warmup', 'pipeline', 'threads', 'c10k', 'timeout-multiplier', 'json', 'html'),
    ...HELP_FLAG,
  });
  if (helpAsked(values, BENCH_HELP)) return 0;
  if (values.all === (values.cmd !== undefined)) throw new UsageError('give either --cmd "<command>" or --all');
  if (values.host !== undefined && !LOOPBACK.has(values.host)) throw new UsageError(`bench sends load to loopback only (127.0.0.1, ::1, localhost), not "${values.host}"`);
  const multiplier = multiplierFlag(values['timeout-multiplier']);
  const pipeline = intFlag(values.pipeline, 'pipeline', 1) ?? 1;
  if (pipeline > 256) throw new UsageError(`--pipeline must be at most 256, got ${pipeline}`);
  const threads = intFlag(values.threads, 'threads', 1) ?? 1;
  if (threads > 16) throw new UsageError(`--threads must be at most 16, got ${threads}`);
  const c10k = intFlag(values.c10k, 'c10k', 1) ?? (values.all ? 10_000 : undefined);
  if (c10k !== undefined && c10k > 20_000) throw new UsageError(`--c10k must be at most 20000, got ${c10k}`);
  const settings: BenchSettings = {
    connections: parseLevels(values.connections),
    durationMs: seconds(values.duration, 'duration', 5, 120) * 1000,
    warmupMs: seconds(values.warmup, 'warmup', 1, 60) * 1000,
    pipeline,
    threads,
    c10k,
    multiplier,
  };
  const targets: BenchTarget[] = values.all ? allBenchTargets() : [singleTarget(values)];
  if (!values.all) {
    const t: Target = targets[0].target;
    // The load generator and the C client speak TCP only.
    if (onUnixSocket(t)) throw new UsageError('bench loads a server over TCP only: give the command {port}, not {socket}');
    if (values.host) targets[0].target = { ...t, host: values.host };
    if (!t.cmd.includes('{delayMs}')) process.stdout.write('note: the command has no {delayMs}: the server runs with its own work delay, not 0\n');
  }

  // Our process holds the client side of every connection; servers inherit the raised limit.
  const needed = Math.max(...settings.connections, settings.c10k ?? 0) + 256;
  const budget = ensureFdBudget(needed);
  const usable = budget.soft - 256;
  if (usable < needed - 256) {
    const capped = `needs ${needed} descriptors; the hard limit allows ${budget.hard}`;
    for (const t of targets) if (t.maxConnections === undefined || t.maxConnections > usable) Object.assign(t, { maxConnections: usable, capReason: capped });
    if (settings.c10k !== undefined && settings.c10k > usable) settings.c10k = Math.max(1, usable);
  }
  process.stdout.write(`${budget.note}\n`);
  if (settings.c10k !== undefined && c10k !== undefined && settings.c10k < c10k) {
    process.stdout.write(`C10K: only ${settings.c10k} connections fit under the hard descriptor limit ${budget.hard} (raise it with ulimit -Hn as root)\n`);
  }

  const progress = new ProgressLine();
  const started = Date.now();
  const implementations: BenchImplementation[] = [];
  progress.print(TABLE_HEAD);
  for (const spec of targets) {
    const name = spec.target.name;
    const impl = await benchTarget(spec, settings, {
      onLevelStart: (n) => progress.show(`${name} × ${n}: connecting …`),
      onProgress: (n, acks, elapsed) => {
        const total = settings.warmupMs + settings.durationMs;
        const filled = Math.min(20, Math.round((elapsed / total) * 20));
        progress.show(`${name} × ${n} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${(elapsed / 1000).toFixed(1)}/${(total / 1000).toFixed(0)} s, ${fmt(acks)} acks measured`);
      },
      onLevelDone: (level) => progress.print(levelLine(name, level)),
    });
    if (impl.error) progress.print(`${column(name)}error: ${impl.error}`);
    if (impl.c10k) {
      const c = impl.c10k;
      progress.print('skipped' in c ? `${column(name)}C10K skipped: ${c.skipped}` : `${column(name)}C10K: ${c.acked}/${c.connections} acked in ${fmt(c.totalMs)} ms (connect ${fmt(c.connectMs)} ms), ${fmt(c.bytesPerConnection)} bytes of server memory per connection${c.errors ? `, ${c.errors} errors: ${c.firstError}` : ''}`);
    }
    implementations.push(impl);
  }
  const generatorCheck = values.all ? await checkGenerator(settings, progress) : undefined;
  const client = cBenchBinary('closed-loop-client');
  const ratioRounds = values.all && client ? await measureRatioRounds(ratioTargets(targets), client, { ...settings, rounds: RATIO_ROUNDS }, (step) => progress.show(step)) : undefined;
  const ratios = ratioRounds ? ratiosFrom(ratioRounds) : [];
  if (generatorCheck) {
    const each = generatorCheck.rounds.map((r) => `${fmt(r.generator)} / ${fmt(r.cClient)}`).join(', ');
    progress.print(`load generator check at 100 connections on ${generatorCheck.server}, median of ${generatorCheck.rounds.length} alternating rounds: ${fmt(generatorCheck.generatorMsgsPerSec)} msgs/s vs the minimal C client's ${fmt(generatorCheck.cClientMsgsPerSec)} = ${generatorCheck.ratio.toFixed(2)}× (goal ≥ 0.8×; rounds, ours / C: ${each})`);
  }
  for (const line of ratioLines(ratios)) progress.print(line);

  const report: BenchReport = {
    tool: 'server-models bench',
    version: kitVersion(),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, kernel: release() },
    settings: { connections: settings.connections, durationMs: settings.durationMs, warmupMs: settings.warmupMs, pipeline: settings.pipeline, threads: settings.threads, c10k: settings.c10k },
    fdNote: budget.note,
    implementations,
    generatorCheck,
    ratios,
  };
  if (values.json) progress.print(`report json: ${writeReportFile(values.json, `${JSON.stringify(report, null, 2)}\n`)}`);
  if (values.html) progress.print(`report html: ${writeReportFile(values.html, renderBenchHtml(report))}`);
  return implementations.some((i) => i.error !== undefined) ? 2 : 0;
}
