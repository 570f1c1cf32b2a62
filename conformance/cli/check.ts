import { MODELS } from '../harness/models';
import { Target } from '../harness/target';
import { exitCodeOf, judgeCase } from '../reports/verdict';
import { selectCases } from '../cases/selection';
import { formatImplementationTally, formatResult, useColor } from '../reports/console';
import { expectedFailuresFor, ExpectedFailure, loadExpectFail } from './expect-fail';
import { loadManifest } from './manifest';
import { ProgressLine } from './progress';
import { defaultJobs, runTargets } from './run-targets';
import { HELP_FLAG, helpAsked, intFlag, parseFlags, stringFlags, UsageError } from '../flags';
import { writeReports } from './write-reports';
import { modelFlag, multiplierFlag, TARGET_FLAGS, targetFromFlags } from './shared-flags';
import { formatTimings, summarizeTimings } from '../reports/timings';
import { describeShare, SHARD_FLAGS, shardHelp, shareFromFlags } from './shard-flags';

export const CHECK_HELP = `Usage: server-models check --cmd "<command>" --model <model> [options]
       server-models check --host <host> --port <port> --model <model> [--pid <pid>] [options]
       server-models check --manifest <file.json> [--shard I/N [--durations <file.json>]] [options]

Starts each server, runs the conformance cases against it over TCP or a Unix-domain socket, prints one
line per case.
Without --cmd, checks a server already running at --host:--port (or --unix): the cases that need a
server of the kit's own start (lifecycle, descriptor exhaustion) are skipped, the others run one after
another against it, and those after it stops answering are blocked. --pid names its process on this
machine so the cases that watch its processes run too.

Target (one from flags, or many from a manifest):
  --cmd <command>            command line; {port}, {delayMs}, {workers} are substituted, and {socket}
                             by a fresh Unix socket path the server is to listen on (not with {port})
  --model <model>            ${MODELS.join(' | ')}
  --workers <n>              declared pool size (prefork, thread-pool; default 5)
  --delay-ms <ms>            the server's declared work delay (default 2000)
  --port <port>              fixed port, for a command without {port} (default 3000)
  --host <host>              address to connect to (default 127.0.0.1)
  --unix <path>              fixed Unix socket path, for a command without {socket}
                             (not with --port, --host)
  --pid <pid>                without --cmd: the running server's process (its tree is watched)
  --name <name>              name in reports (default: the command, or the address)
  --manifest <file>          JSON: {"targets": [{"name", "cmd", "model", "workers", "delayMs",
                             "port", "host", "unix", "cwd", "env", "limit", "readyLine", "pid"}, ...]}

Cases:
  --only <glob>              run only cases whose id matches (repeatable), e.g. 'protocol.*'
  --skip <glob>              leave out cases whose id matches (repeatable)
  --strict                   a SHOULD failure fails the run too
  --expect-fail <file>       known failures, one "<case id glob>" or "<target name> <case id glob>"
                             per line: shown as XFAIL, they do not fail the run; one that passes
                             is shown as XPASS
  --timeout-multiplier <x>   scale every deadline (also SM_TIMEOUT_MULTIPLIER)
  --jobs <n>                 cases run at the same time, each on its own server and port (default:
                             2 × cores + 2, at most 16; 1 = one after another; a fixed port runs 1)
  --timings                  after the results, where the time went: wall time, time inside cases,
                             launch/stop overhead, lock waits and the slowest cases

Reports:
  --json <file>              every result as JSON (an object with "implementations" and "cases")
  --junit <file>             JUnit XML for CI test report parsers
  --html <file>              matrix, evidence and session timelines, one self-contained page
  -h, --help                 this help

${shardHelp('target')}

Exit status: 0 no failure, 1 a MUST case (or with --strict a SHOULD case) failed, 2 usage or target error.
Case ids and levels: server-models list`;

/** The flags that describe the one target to check; a manifest describes its targets instead. */
const ONE_TARGET = { ...TARGET_FLAGS, ...stringFlags('delay-ms', 'port', 'unix', 'pid') };

const FLAGS = {
  ...ONE_TARGET,
  ...stringFlags('manifest', 'expect-fail', 'timeout-multiplier', 'jobs', 'json', 'junit', 'html'),
  ...SHARD_FLAGS,
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  timings: { type: 'boolean' },
  ...HELP_FLAG,
} as const;

type CheckValues = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

/** The one target the flags describe. */
function oneTarget(values: CheckValues): Target {
  if (values.cmd === undefined && values.port === undefined && values.unix === undefined) {
    throw new UsageError('--cmd is required (the command that starts your server), or --port (or --unix) of a server already running, or --manifest');
  }
  if (values.cmd !== undefined && values.pid !== undefined) throw new UsageError('--pid names a server already running: give it with --port or --unix instead of --cmd');
  if (!values.model) throw new UsageError(`--model is required: one of ${MODELS.join(', ')}`);
  return targetFromFlags({
    name: values.name ?? values.cmd ?? '',
    cmd: values.cmd,
    pid: intFlag(values.pid, 'pid', 1),
    model: modelFlag(values.model),
    workers: intFlag(values.workers, 'workers', 1),
    delayMs: intFlag(values['delay-ms'], 'delay-ms'),
    port: intFlag(values.port, 'port', 1),
    host: values.host,
    unix: values.unix,
  });
}

/** `server-models check`: returns the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (helpAsked(values, CHECK_HELP)) return 0;
  let targets: Target[];
  let manifestMultiplier: number | undefined;
  if (values.manifest !== undefined) {
    const mixed = (Object.keys(ONE_TARGET) as (keyof typeof ONE_TARGET)[]).filter((f) => values[f] !== undefined);
    if (mixed.length > 0) throw new UsageError(`--manifest describes the targets; drop --${mixed.join(', --')}`);
    const manifest = loadManifest(values.manifest);
    targets = manifest.targets;
    manifestMultiplier = manifest.timeoutMultiplier;
  } else {
    if (values.shard !== undefined) throw new UsageError('--shard splits the targets of a manifest: give --manifest');
    targets = [oneTarget(values)];
  }
  const multiplier = multiplierFlag(values['timeout-multiplier'] ?? manifestMultiplier);
  const cases = selectCases(values.only, values.skip);
  const expectFail: ExpectedFailure[] = values['expect-fail'] ? loadExpectFail(values['expect-fail'], targets.map((t) => t.name)) : [];
  const strict = values.strict === true;
  const color = useColor();
  const progress = new ProgressLine();
  const share = shareFromFlags(targets, cases, values);
  const shareLine = describeShare(share, 'target');
  if (shareLine !== undefined) progress.print(`server-models check: ${shareLine}`);
  const checked = share.targets;

  const jobs = intFlag(values.jobs, 'jobs', 1) ?? defaultJobs();
  const running = new Set<string>();
  const report = await runTargets(checked, {
    cases,
    multiplier,
    jobs,
    expectedFailures: (t) => expectedFailuresFor(expectFail, t.name),
    onTargetStart: (t, i) => {
      const limit = t.limit === 'unbounded' ? 'unbounded' : `limit ${t.limit}`;
      const of = checked.length > 1 ? ` [${i + 1}/${checked.length}]` : '';
      progress.print(`server-models check${of}: ${t.name} — ${t.model} (${limit}, delay ${t.delayMs} ms), ${cases.length} cases`);
    },
    onCaseStart: (t, c, index, total) => {
      running.add(c.id);
      progress.show(`  ${index}/${total} running: ${[...running].join(', ')} …`);
    },
    onResult: (t, r) => {
      running.delete(r.id);
      const expected = expectedFailuresFor(expectFail, t.name).includes(r.id);
      progress.print(formatResult(r, color, judgeCase(r, expected, strict)));
    },
    // One target that cannot start is reported on stderr at the end; among many, in line.
    onTargetError: (t, message) => checked.length > 1 && progress.print(`server-models: target error: ${t.name}: ${message}`),
  });
  if (share.shard) report.shard = share.shard;

  for (const impl of report.implementations) {
    if (impl.error !== undefined) continue;
    progress.print(formatImplementationTally(impl, strict, report.implementations.length > 1));
    if (values.timings) for (const line of formatTimings(summarizeTimings(impl))) progress.print(line);
  }
  for (const line of writeReports(report, { json: values.json, junit: values.junit, html: values.html }, strict)) progress.print(`report ${line}`);
  const code = exitCodeOf(report, strict);
  // A single target that cannot start is a target error: one line on stderr, like a usage error.
  if (code === 2 && checked.length === 1) process.stderr.write(`server-models: target error: ${report.implementations[0].error}\n`);
  return code;
}
