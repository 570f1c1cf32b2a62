import { formatResult } from '../../reports/console';
import { CaseBlocked, CaseResult, ConformanceCase } from '../../cases/types';
import { makeDeadlines, pollUntil } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { fdKind } from '../../harness/procfs';
import { resolveTarget } from '../../harness/target';
import { renderJunit } from '../../reports/junit';
import { RunReport } from '../../reports/run-report';
import { exitCodeOf, judgeCase } from '../../reports/verdict';
import { referenceTarget } from '../../reference';
import { explainBlocked, runCase } from '../../runner';
import { caseDefaults } from '../case-defaults';

const result = (id: string, outcome: CaseResult['outcome'], extra: Partial<CaseResult> = {}): CaseResult =>
  ({ id, level: 'MUST', title: id, outcome, durationMs: 5, ...extra });

const run = (cases: CaseResult[]): RunReport => ({
  tool: 'server-models', version: '0', startedAt: '2026-12-01T00:00:00.000Z', durationMs: 1, timeoutMultiplier: 1,
  implementations: [{ name: 'srv', model: 'event-loop', cmd: 'srv', delayMs: 100, limit: 'unbounded', cases }],
});

afterAll(() => stopAllTargets());

describe('blocked and error outcomes', () => {
  test('a blocked case names the failed cases that explain it, out of those it could name', () => {
    const results = explainBlocked([
      result('close.rst.server-survives', 'fail'),
      result('close.connect-close.server-survives', 'pass'),
      result('resources.fds', 'blocked', { blockedBy: ['close.rst.server-survives', 'close.connect-close.server-survives'] }),
    ]);
    expect(results[2].blockedBy).toEqual(['close.rst.server-survives']);
  });

  test('blocked is neither a pass nor a failure of the run; a kit error makes the run exit 2', () => {
    expect(judgeCase(result('a', 'blocked'), false, true)).toBe('blocked');
    expect(exitCodeOf(run([result('a', 'pass'), result('b', 'blocked')]), true)).toBe(0);
    expect(exitCodeOf(run([result('a', 'fail'), result('b', 'blocked')]), true)).toBe(1);
    expect(exitCodeOf(run([result('a', 'fail'), result('b', 'error')]), true)).toBe(2);
  });

  test('JUnit reports both as error elements, apart from failures', () => {
    const xml = renderJunit(run([result('a', 'blocked', { message: 'the server died', blockedBy: ['x.y'] }), result('b', 'error', { message: 'kit error: boom', stack: 'Error: boom\n    at kit' }), result('c', 'fail')]), false);
    expect(xml).toContain('<error message="the server died" type="blocked">');
    expect(xml).toContain('explained by: x.y');
    expect(xml).toContain('<error message="kit error: boom" type="kit-error">Error: boom');
    expect(xml).toMatch(/<testsuite name="srv" tests="3" failures="1" errors="2"/);
  });

  test('the console says what was not measured and why, and calls a kit error the kit\'s', () => {
    expect(formatResult(result('resources.fds', 'blocked', { message: 'the server died', blockedBy: ['x.y'] }), false)).toMatch(/^BLOCK resources\.fds[\s\S]*not measured: the server died\n\s+explained by: x\.y/);
    expect(formatResult(result('a.b', 'error', { message: 'kit error: boom' }), false)).toMatch(/^ERROR a\.b[\s\S]*a fault of the kit, not of the server/);
    expect(formatResult(result('protocol.ack.single', 'fail', { expected: '1 ack', actual: 'nothing', requirement: ['R2.1', 'R2.4'] }), false))
      .toMatch(/actual:   nothing\n\s+rule:     R2\.1, R2\.4 \(docs\/protocol\.md\)/);
    expect(formatResult(result('a.b', 'informational', { level: 'INFO', message: 'not measured: no ack', expected: 'an ack', actual: 'nothing' }), false)).toMatch(/INFO[\s\S]*expected: an ack/);
  });

  test('the runner: an exception that is not an observation is a kit error with its stack; CaseBlocked is blocked', async () => {
    const spec = referenceTarget('event-loop', 'ts', 100);
    const target = resolveTarget(spec);
    const deadlines = makeDeadlines(100, 1);
    const buggy: ConformanceCase = { ...caseDefaults, id: 'kit.bug', level: 'MUST', title: 'a case with a bug', async run() { throw new TypeError('cannot read x of undefined'); } };
    const blocked: ConformanceCase = { ...caseDefaults, id: 'kit.blocked', level: 'MUST', title: 'a case that cannot measure', async run() { throw new CaseBlocked('nothing to measure', ['a.b']); } };
    const bug = await runCase(buggy, target, deadlines);
    expect(bug).toMatchObject({ outcome: 'error', message: 'kit error: cannot read x of undefined' });
    expect(bug.stack).toContain('TypeError');
    expect(await runCase(blocked, target, deadlines)).toMatchObject({ outcome: 'blocked', message: 'nothing to measure', blockedBy: ['a.b'] });
  });

  test('a failed connect states what was true: server alive or not, a listener or not', async () => {
    const target = resolveTarget(referenceTarget('event-loop', 'ts', 100));
    const deaf: ConformanceCase = { ...caseDefaults, id: 'kit.deaf', level: 'MUST', title: 'connects after killing the server', async run(ctx) {
      process.kill(ctx.server.serverPid, 'SIGKILL');
      await pollUntil(() => !ctx.server.serverAlive() && ctx.server.exitStatus() !== undefined, 2000);
      await ctx.connect();
    } };
    const r = await runCase(deaf, target, makeDeadlines(100, 1));
    expect(r.outcome).toBe('fail');
    expect(r.actual).toMatch(/ECONNREFUSED with the server exited \(killed by SIGKILL\), nothing of the server listening on port \d+/);
  });
});

describe('fdKind', () => {
  const families = new Map([[11, 'tcp'], [12, 'unix']]);
  test.each([
    ['socket:[11]', 'socket:tcp'], ['socket:[12]', 'socket:unix'], ['socket:[13]', 'socket:other'], ['pipe:[99]', 'pipe'],
    ['anon_inode:[eventpoll]', 'epoll'], ['anon_inode:[eventfd]', 'eventfd'], ['anon_inode:[timerfd]', 'timerfd'],
    ['anon_inode:[signalfd]', 'signalfd'], ['anon_inode:inotify', 'inotify'], ['/dev/null', 'device'], ['/tmp/session.log (deleted)', 'file'],
  ])('%s is %s', (link, kind) => expect(fdKind(link, families)).toBe(kind));
});
