import { writeFileSync } from 'node:fs';
import { allCases, matchCases } from '../cases';
import { ConformanceCase } from '../cases/types';
import { makeDeadlines, resolveMultiplier } from '../harness/deadlines';
import { isModel, MODELS } from '../harness/models';
import { resolveTarget, TargetError } from '../harness/target';
import { runSuite } from '../runner';
import { formatResult, formatTally, tally } from './console-report';
import { intFlag, parseFlags, UsageError } from './usage';

export const CHECK_HELP = `Usage: server-models check --cmd "<command>" --model <model> [options]

Starts the server command, runs the conformance cases against it over TCP, prints one line per case.

  --cmd <command>            command line; {port}, {delayMs}, {workers} are substituted
  --model <model>            ${MODELS.join(' | ')}
  --workers <n>              declared pool size (prefork, thread-pool; default 5)
  --delay-ms <ms>            the server's declared work delay (default 2000)
  --port <port>              fixed port, for a command without {port} (default 3000)
  --host <host>              address to connect to (default 127.0.0.1)
  --only <glob>              run only cases whose id matches (repeatable), e.g. 'protocol.*'
  --timeout-multiplier <x>   scale every deadline (also SM_TIMEOUT_MULTIPLIER)
  --json <file>              write the results as JSON
  -h, --help                 this help

Exit status: 0 no MUST case failed, 1 a MUST case failed, 2 usage or target error.`;

/** `server-models check`: returns the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    cmd: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
    'delay-ms': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    only: { type: 'string', multiple: true },
    'timeout-multiplier': { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${CHECK_HELP}\n`);
    return 0;
  }
  if (!values.cmd) throw new UsageError('--cmd is required (the command that starts your server)');
  if (!values.model) throw new UsageError(`--model is required: one of ${MODELS.join(', ')}`);
  if (!isModel(values.model)) throw new UsageError(`--model must be one of ${MODELS.join(', ')}, got "${values.model}"`);
  let multiplier: number;
  try {
    multiplier = resolveMultiplier(values['timeout-multiplier']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let target;
  try {
    target = resolveTarget({
      name: values.cmd,
      cmd: values.cmd,
      model: values.model,
      workers: intFlag(values.workers, 'workers', 1),
      delayMs: intFlag(values['delay-ms'], 'delay-ms'),
      port: intFlag(values.port, 'port', 1),
      host: values.host,
    });
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message);
    throw err;
  }
  let cases: ConformanceCase[] = allCases;
  if (values.only) {
    cases = allCases.filter((c) => values.only?.some((g) => matchCases(g, [c]).length > 0));
    if (cases.length === 0) throw new UsageError(`--only ${values.only.join(', ')} matches no case id (see: server-models list)`);
  }
  const limit = target.limit === 'unbounded' ? 'unbounded' : `limit ${target.limit}`;
  process.stdout.write(`server-models check: ${target.model} (${limit}, delay ${target.delayMs} ms) — ${target.cmd}\n`);
  const started = Date.now();
  const results = await runSuite(target, cases, {
    deadlines: makeDeadlines(target.delayMs, multiplier),
    onResult: (r) => process.stdout.write(`${formatResult(r)}\n`),
  });
  const t = tally(results);
  process.stdout.write(`${formatTally(t)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ target: { name: target.name, cmd: target.cmd, model: target.model, limit: target.limit, delayMs: target.delayMs }, cases: results }, null, 2)}\n`);
  }
  return t.fail > 0 ? 1 : 0;
}
