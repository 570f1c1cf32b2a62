import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CaseResult } from '../../cases/types';
import { renderJunit } from '../../reports/junit';
import { RunReport } from '../../reports/run-report';
import { exitCodeOf, judgeCase } from '../../reports/verdict';

const result = (id: string, outcome: CaseResult['outcome'], extra: Partial<CaseResult> = {}): CaseResult => ({
  id,
  level: outcome === 'warn' ? 'SHOULD' : outcome === 'informational' ? 'INFO' : 'MUST',
  title: `title of ${id}`,
  outcome,
  durationMs: 1234,
  ...extra,
});

function report(): RunReport {
  return {
    tool: 'server-models',
    version: '0.1.0',
    startedAt: '2026-11-22T05:00:00.000Z',
    durationMs: 9000,
    timeoutMultiplier: 1,
    implementations: [
      {
        name: 'my <server> & co',
        model: 'prefork',
        cmd: './srv --port {port}',
        delayMs: 100,
        limit: 5,
        expectedFailures: ['resources.zombies', 'protocol.ack.single'],
        cases: [
          result('protocol.ack.single', 'pass'),
          result('protocol.goodbye.no-ack', 'fail', { message: 'expected "" ; saw "ack"', expected: '""', actual: '"ack" then FIN', evidence: { received: '"ack\u0003\u0000"', bytes: 3 } }),
          result('resources.zombies', 'fail', { message: 'expected 0 zombies; saw 3', expected: '0 zombies', actual: '3' }),
          result('resources.memory', 'warn', { message: 'grew 40 MiB' }),
          result('robustness.idle-client', 'skip', { message: 'bounded model', durationMs: 0 }),
          result('concurrency.timing', 'informational', { message: 'parallel: 520 ms' }),
        ],
      },
      { name: 'broken', model: 'event-loop', cmd: 'nope', delayMs: 100, limit: 'unbounded', error: 'exited with code 3 before listening', cases: [] },
    ],
  };
}

type Node = Record<string, unknown>;
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function parse(xml: string): Node {
  expect(XMLValidator.validate(xml)).toBe(true);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as Node;
}

describe('JUnit XML', () => {
  test('well-formed; every testcase has classname and name; counts add up', () => {
    const doc = parse(renderJunit(report(), false));
    const suites = asArray((doc.testsuites as Node).testsuite as Node | Node[]);
    expect(suites.map((s) => s.name)).toEqual(['my <server> & co', 'broken']);
    const cases = suites.flatMap((s) => asArray(s.testcase as Node | Node[]));
    for (const c of cases) {
      expect(c.classname).toMatch(/^server-models\./);
      expect(typeof c.name).toBe('string');
    }
    expect((doc.testsuites as Node).tests).toBe(String(cases.length));
    expect((doc.testsuites as Node).failures).toBe('1');
    expect((doc.testsuites as Node).errors).toBe('1');
  });

  test('an unexpected MUST failure carries expected / actual; skips and expected failures are skipped', () => {
    const doc = parse(renderJunit(report(), false));
    const [first] = asArray((doc.testsuites as Node).testsuite as Node[]);
    const byName = new Map(asArray(first.testcase as Node[]).map((c) => [String(c.name), c]));
    const failure = byName.get('protocol.goodbye.no-ack (MUST)')?.failure as Node;
    expect(failure.type).toBe('MUST');
    expect(failure['#text']).toMatch(/expected: ""\nactual: {3}"ack" then FIN/);
    expect(byName.get('robustness.idle-client (MUST)')?.skipped).toMatchObject({ message: 'bounded model' });
    expect(byName.get('resources.zombies (MUST)')?.skipped).toMatchObject({ message: expect.stringMatching(/^expected failure/) });
    expect(byName.get('resources.memory (SHOULD)')?.failure).toBeUndefined();
    expect(first.failures).toBe('1');
  });

  test('--strict turns a SHOULD failure into a JUnit failure', () => {
    const doc = parse(renderJunit(report(), true));
    const [first] = asArray((doc.testsuites as Node).testsuite as Node[]);
    expect(first.failures).toBe('2');
  });

  test('a target that could not start is an error testcase', () => {
    const doc = parse(renderJunit(report(), false));
    const broken = asArray((doc.testsuites as Node).testsuite as Node[])[1];
    expect((broken.testcase as Node).error).toMatchObject({ message: 'exited with code 3 before listening', type: 'target-error' });
  });
});

describe('verdicts and exit status', () => {
  test('expected failures do not fail; a listed pass is an unexpected pass; strict fails on SHOULD', () => {
    expect(judgeCase(result('a', 'fail'), true, false)).toBe('expected-failure');
    expect(judgeCase(result('a', 'fail'), false, false)).toBe('failed');
    expect(judgeCase(result('a', 'pass'), true, false)).toBe('unexpected-pass');
    expect(judgeCase(result('a', 'warn'), false, false)).toBe('warn');
    expect(judgeCase(result('a', 'warn'), false, true)).toBe('failed');
    expect(judgeCase(result('a', 'skip'), false, true)).toBe('skipped');
  });
  test('exit 2 for a target error, 1 for a failure, 0 otherwise', () => {
    const r = report();
    expect(exitCodeOf(r, false)).toBe(2);
    r.implementations.pop();
    expect(exitCodeOf(r, false)).toBe(1);
    r.implementations[0].expectedFailures?.push('protocol.goodbye.no-ack');
    expect(exitCodeOf(r, false)).toBe(0);
    expect(exitCodeOf(r, true)).toBe(1);
  });
});
