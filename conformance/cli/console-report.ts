import { CaseResult, Outcome } from '../cases/types';
import { Verdict } from '../reports/verdict';

const COLORS: Record<Outcome, string> = { pass: '32', fail: '31', 'non-strict': '33', skip: '90', informational: '36' };
const LABELS: Record<Outcome, string> = { pass: 'PASS', fail: 'FAIL', 'non-strict': 'WARN', skip: 'SKIP', informational: 'INFO' };

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

/** One line per case, with expected / actual / evidence under a failure. */
export function formatResult(r: CaseResult, color = useColor(), verdict?: Verdict): string {
  const [label, code] = (verdict && VERDICT_LABELS[verdict]) ?? [LABELS[r.outcome], COLORS[r.outcome]];
  const suffix = verdict === 'unexpected-pass' ? '  (listed in --expect-fail, but passed)' : '';
  const head = `${paint(label.padEnd(5), code, color)} ${r.id.padEnd(40)} ${r.level.padEnd(6)} ${String(r.durationMs).padStart(6)} ms${suffix}`;
  const lines = [r.message && (r.outcome === 'skip' || r.outcome === 'informational' || r.outcome === 'pass') ? `${head}  ${r.message}` : head];
  if (r.outcome === 'fail' || r.outcome === 'non-strict') {
    if (r.expected !== undefined) {
      lines.push(`      expected: ${r.expected}`, `      actual:   ${r.actual}`);
    } else if (r.message) {
      lines.push(`      ${r.message}`);
    }
    for (const [k, v] of Object.entries(r.evidence ?? {})) lines.push(`      ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines.join('\n');
}

export interface Tally {
  pass: number;
  fail: number;
  'non-strict': number;
  skip: number;
  informational: number;
}

export function tally(results: CaseResult[]): Tally {
  const t: Tally = { pass: 0, fail: 0, 'non-strict': 0, skip: 0, informational: 0 };
  for (const r of results) t[r.outcome]++;
  return t;
}

export function formatTally(t: Tally): string {
  return `${t.pass} passed, ${t.fail} failed, ${t['non-strict']} non-strict, ${t.skip} skipped, ${t.informational} informational`;
}
