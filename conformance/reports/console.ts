import { CaseResult, Outcome, OUTCOMES } from '../cases/types';
import { ImplementationReport } from './run-report';
import { judgeCase, Verdict } from './verdict';

const COLORS: Record<Outcome, string> = { pass: '32', fail: '31', warn: '33', skip: '90', informational: '36', blocked: '35', error: '41;97' };
const LABELS: Record<Outcome, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', informational: 'INFO', blocked: 'BLOCK', error: 'ERROR' };

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return stream.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

export function paint(text: string, code: string, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** Labels that differ from the outcome's once --expect-fail and --strict are applied. */
const VERDICT_LABELS: Partial<Record<Verdict, [string, string]>> = {
  'expected-failure': ['XFAIL', '33'],
  'unexpected-pass': ['XPASS', '35'],
  failed: ['FAIL', '31'],
};

/** One line per case; under a failure what was expected, what was seen and the evidence; under a blocked case why. */
export function formatResult(r: CaseResult, color = useColor(), verdict?: Verdict): string {
  const [label, code] = (verdict && VERDICT_LABELS[verdict]) ?? [LABELS[r.outcome], COLORS[r.outcome]];
  const suffix = verdict === 'unexpected-pass' ? '  (listed in --expect-fail, but passed)' : '';
  const head = `${paint(label.padEnd(5), code, color)} ${r.id.padEnd(40)} ${r.level.padEnd(6)} ${String(r.durationMs).padStart(6)} ms${suffix}`;
  const inline = r.outcome === 'skip' || r.outcome === 'informational' || r.outcome === 'pass';
  const lines = [r.message && inline ? `${head}  ${r.message}` : head];
  const failed = r.outcome === 'fail' || r.outcome === 'warn' || (r.outcome === 'informational' && r.expected !== undefined);
  if (r.outcome === 'blocked') {
    lines.push(`      not measured: ${r.message ?? ''}`);
    if (r.blockedBy?.length) lines.push(`      explained by: ${r.blockedBy.join(', ')}`);
  } else if (r.outcome === 'error') {
    lines.push(`      ${r.message ?? 'kit error'} (a fault of the kit, not of the server; the stack is in the JSON report)`);
  } else if (failed && r.expected !== undefined) {
    lines.push(`      expected: ${r.expected}`, `      actual:   ${r.actual}`);
  } else if (failed && r.message) {
    lines.push(`      ${r.message}`);
  }
  if (failed && r.requirement?.length) lines.push(`      rule:     ${r.requirement.join(', ')} (docs/protocol.md)`);
  if (failed || r.outcome === 'blocked') {
    for (const [k, v] of Object.entries(r.evidence ?? {})) lines.push(`      ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines.join('\n');
}

export type Tally = Record<Outcome, number>;

export function tally(results: CaseResult[]): Tally {
  const t = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Tally;
  for (const r of results) t[r.outcome]++;
  return t;
}

/** "30 passed, 2 failed, …"; blocked and kit errors are named only when there are some. */
export function formatTally(t: Tally): string {
  const extra = [t.blocked ? `${t.blocked} blocked` : '', t.error ? `${t.error} kit errors` : ''].filter(Boolean);
  return `${t.pass} passed, ${t.fail} failed, ${t.warn} warned, ${t.skip} skipped, ${t.informational} informational${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

/** An implementation's closing line: its tally, the expected failures among it, its time; `named` puts its name first. */
export function formatImplementationTally(impl: ImplementationReport, strict: boolean, named: boolean): string {
  const xfail = impl.cases.filter((r) => judgeCase(r, impl.expectedFailures?.includes(r.id) ?? false, strict) === 'expected-failure').length;
  const seconds = ((impl.durationMs ?? 0) / 1000).toFixed(1);
  return `${named ? `${impl.name}: ` : ''}${formatTally(tally(impl.cases))}${xfail ? ` (${xfail} expected)` : ''} in ${seconds} s`;
}
