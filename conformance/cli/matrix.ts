import { writeFileSync } from 'node:fs';
import { allCases } from '../cases';
import { CaseResult } from '../cases/types';
import { makeDeadlines, resolveMultiplier } from '../harness/deadlines';
import { resolveTarget } from '../harness/target';
import { referenceTargets } from '../reference';
import { runSuite } from '../runner';
import { formatResult, paint, useColor } from './console-report';
import { intFlag, parseFlags, UsageError } from './usage';

export const MATRIX_HELP = `Usage: server-models matrix [--delay-ms D] [--lang ts|c] [--json FILE] [--timeout-multiplier X]

Checks every built reference server and prints a matrix of implementation × case area.
Default delay: 200 ms. Exit status 1 if any reference server fails a MUST case.`;

function areaOf(id: string): string {
  return id.split('.')[0];
}

/** One cell: passed / applicable, with the failures marked. */
function cell(results: CaseResult[], color: boolean): string {
  const applicable = results.filter((r) => r.outcome !== 'skip' && r.outcome !== 'informational');
  const passed = applicable.filter((r) => r.outcome === 'pass').length;
  const failed = applicable.filter((r) => r.outcome === 'fail').length;
  const text = `${passed}/${applicable.length}${failed ? ` ${failed}✗` : applicable.length > passed ? ' ~' : ''}`;
  return paint(text.padEnd(12), failed ? '31' : applicable.length > passed ? '33' : '32', color);
}

/** `server-models matrix` (what `npm start` runs): returns the exit code. */
export async function matrixCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    'delay-ms': { type: 'string' },
    lang: { type: 'string' },
    json: { type: 'string' },
    'timeout-multiplier': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${MATRIX_HELP}\n`);
    return 0;
  }
  if (values.lang !== undefined && values.lang !== 'ts' && values.lang !== 'c') throw new UsageError(`--lang must be ts or c, got "${values.lang}"`);
  const delayMs = intFlag(values['delay-ms'], 'delay-ms') ?? 200;
  const multiplier = resolveMultiplier(values['timeout-multiplier']);
  const color = useColor();
  const specs = referenceTargets(delayMs).filter((s) => values.lang === undefined || s.name.startsWith(`${values.lang}/`));
  const areas = [...new Set(allCases.map((c) => areaOf(c.id)))];
  const rows: { name: string; results?: CaseResult[]; note?: string }[] = [];
  for (const spec of specs) {
    if (!spec.available) {
      rows.push({ name: spec.name, note: 'not built (C servers need a C compiler: make -C servers/c)' });
      continue;
    }
    process.stdout.write(`── ${spec.name}\n`);
    const target = resolveTarget(spec);
    const results = await runSuite(target, allCases, {
      deadlines: makeDeadlines(delayMs, multiplier),
      onResult: (r) => {
        if (r.outcome === 'fail' || r.outcome === 'non-strict') process.stdout.write(`${formatResult(r, color)}\n`);
      },
    });
    rows.push({ name: spec.name, results });
  }
  const header = `${'implementation'.padEnd(24)}${areas.map((a) => a.padEnd(12)).join('')}measured limit`;
  process.stdout.write(`\n${header}\n${'─'.repeat(header.length)}\n`);
  for (const row of rows) {
    if (!row.results) {
      process.stdout.write(`${row.name.padEnd(24)}${row.note}\n`);
      continue;
    }
    const byArea = areas.map((a) => cell((row.results ?? []).filter((r) => areaOf(r.id) === a), color)).join('');
    const limit = row.results.find((r) => r.id === 'concurrency.limit')?.message ?? '';
    process.stdout.write(`${row.name.padEnd(24)}${byArea}${limit.replace('measured limit ', '')}\n`);
  }
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ delayMs, implementations: rows.map((r) => ({ name: r.name, note: r.note, cases: r.results ?? [] })) }, null, 2)}\n`);
  }
  const failing = rows.filter((r) => r.results?.some((x) => x.outcome === 'fail')).length;
  process.stdout.write(`\n${rows.filter((r) => r.results).length} implementations checked, ${failing} with a failing MUST case\n`);
  return failing > 0 ? 1 : 0;
}
