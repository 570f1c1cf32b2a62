/**
 * `npm run soak -- --runs K`: runs the whole Jest suite K times and reports, per test, how often it
 * failed (a flake is a test that fails in some runs and passes in others), and after every run what
 * was left behind: processes carrying the run's marker, and new zombies.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HELP_FLAG, helpAsked, intFlag, parseFlags, stringFlags, UsageError } from '../flags';
import { readJestResults, JestRunSummary } from './jest-results';
import { findLeftovers, Leftovers, zombiePids } from './leftovers';

const HELP = `Usage: npm run soak -- [--runs K] [--cpu-hog N] [--logs DIR] [--report FILE] [-- <jest args>]

Runs the Jest suite K times in a row (default 10) and reports failures per test and leftovers per run.

  --runs <k>       how many runs (default 10)
  --cpu-hog <n>    keep n busy-looping processes running throughout, to load the cores (default 0)
  --logs <dir>     where each run's Jest output goes (default .soak)
  --report <file>  JSON report (default <logs>/report.json)
  -h, --help       this help

Exit status: 0 when every run passed and left nothing behind, 1 otherwise, 2 on a usage error.`;

/** Marker every process of one soak run inherits, so leftovers can be found after Jest exits. */
const SOAK_MARKER_ENV = 'SERVER_MODELS_SOAK';

interface RunRecord extends JestRunSummary {
  run: number;
  seconds: number;
  exitCode: number | null;
  leftoverProcesses: string[];
  newZombies: string[];
}

function describe(p: { pid: number; comm: string; state: string }): string {
  return `${p.pid} ${p.comm} (${p.state})`;
}

function runJest(root: string, jestArgs: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<number | null> {
  const log = openSync(logFile, 'w');
  const jestBin = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  // Its own process group, so an interrupted soak can stop Jest the way Ctrl-C does: the whole group.
  const child = spawn(process.execPath, [jestBin, ...jestArgs], { cwd: root, env, stdio: ['ignore', log, log], detached: true });
  current = child;
  return new Promise((done) => {
    child.on('exit', (code) => {
      closeSync(log);
      current = undefined;
      done(code);
    });
  });
}

let current: ChildProcess | undefined;
const hogs: ChildProcess[] = [];

function startHogs(n: number): void {
  for (let i = 0; i < n; i++) {
    hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
}

function stopHogs(): void {
  for (const h of hogs) h.kill('SIGKILL');
}

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const jestExtra = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values } = parseFlags(own, {
    ...stringFlags('runs', 'cpu-hog', 'logs', 'report'),
    ...HELP_FLAG,
  });
  if (helpAsked(values, HELP)) return 0;
  const runs = intFlag(values.runs, 'runs', 1) ?? 10;
  const hogCount = intFlag(values['cpu-hog'], 'cpu-hog') ?? 0;
  const root = resolve(__dirname, '..', '..', '..');
  const logs = resolve(values.logs ?? join(root, '.soak'));
  const reportFile = resolve(values.report ?? join(logs, 'report.json'));
  mkdirSync(logs, { recursive: true });

  startHogs(hogCount);
  process.stdout.write(`soak: ${runs} runs of the Jest suite${hogCount ? `, with ${hogCount} CPU hog(s)` : ''}; logs in ${logs}\n`);
  const records: RunRecord[] = [];
  const started = Date.now();
  for (let run = 1; run <= runs; run++) {
    const marker = `${process.pid}-${run}-${randomBytes(4).toString('hex')}`;
    const resultsFile = join(logs, `run-${run}.json`);
    const zombiesBefore = zombiePids();
    const t0 = Date.now();
    const exitCode = await runJest(
      root,
      ['--json', '--outputFile', resultsFile, ...jestExtra],
      { ...process.env, [SOAK_MARKER_ENV]: marker, FORCE_COLOR: '0' },
      join(logs, `run-${run}.log`),
    );
    const seconds = (Date.now() - t0) / 1000;
    const summary = readJestResults(resultsFile, root);
    const left: Leftovers = await findLeftovers(SOAK_MARKER_ENV, marker, zombiesBefore, 10_000);
    const record: RunRecord = {
      run,
      seconds,
      exitCode,
      ...summary,
      leftoverProcesses: left.marked.map(describe),
      newZombies: left.newZombies.map(describe),
    };
    records.push(record);
    const clean = exitCode === 0 && summary.failed === 0 && left.marked.length === 0 && left.newZombies.length === 0;
    process.stdout.write(
      `run ${run}/${runs}: ${clean ? 'ok  ' : 'FAIL'} ${summary.passed} passed, ${summary.failed} failed, ` +
        `${left.marked.length} leftover processes, ${left.newZombies.length} new zombies, ${seconds.toFixed(0)} s\n`,
    );
    for (const f of summary.failures) process.stdout.write(`    failed: ${f}\n`);
    for (const p of record.leftoverProcesses) process.stdout.write(`    left running: ${p}\n`);
    for (const p of record.newZombies) process.stdout.write(`    zombie: ${p}\n`);
  }
  stopHogs();

  const perTest = new Map<string, number>();
  for (const r of records) for (const f of r.failures) perTest.set(f, (perTest.get(f) ?? 0) + 1);
  const cleanRuns = records.filter((r) => r.exitCode === 0 && r.failed === 0 && r.leftoverProcesses.length === 0 && r.newZombies.length === 0).length;
  process.stdout.write(`\nsoak: ${cleanRuns}/${runs} runs clean in ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
  if (perTest.size > 0) {
    process.stdout.write('failures per test (runs failed / runs):\n');
    for (const [name, n] of [...perTest].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${n}/${runs}  ${name}\n`);
  }
  writeFileSync(
    reportFile,
    `${JSON.stringify({ runs, cpuHogs: hogCount, cleanRuns, failuresPerTest: Object.fromEntries(perTest), records }, null, 2)}\n`,
  );
  process.stdout.write(`report: ${reportFile}\n`);
  return cleanRuns === runs ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    stopHogs();
    // Ctrl-C for Jest's whole group; the kit's watchdog tears down the servers its tests started.
    if (current?.pid) {
      try {
        process.kill(-current.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
    process.stderr.write(`\nsoak: interrupted\n`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    stopHogs();
    const text = err instanceof UsageError ? err.message : `internal error: ${(err as Error).stack ?? String(err)}`;
    process.stderr.write(`soak: ${text}\n`);
    process.exitCode = 2;
  },
);
