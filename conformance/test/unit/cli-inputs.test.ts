import { parseManifest } from '../../cli/manifest';
import { expectedFailuresFor, parseExpectFail } from '../../cli/expect-fail';
import { selectCases } from '../../cases/selection';
import { UsageError } from '../../flags';
import { allCases } from '../../cases';

const manifest = (targets: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ targets, ...extra });

describe('manifest', () => {
  test('targets get defaults, names, and a cwd relative to the manifest', () => {
    const m = parseManifest(
      manifest([
        { name: 'mine', cmd: './server --port {port}', model: 'prefork', workers: 4, delayMs: 300, cwd: 'bin' },
        { cmd: 'python3 srv.py', model: 'event-loop' },
        { cmd: './daemon', model: 'event-loop', unix: '/run/daemon.sock' },
      ], { timeoutMultiplier: 2 }),
      '/proj/targets.json',
    );
    expect(m.timeoutMultiplier).toBe(2);
    expect(m.targets[0]).toMatchObject({ name: 'mine', model: 'prefork', workers: 4, limit: 4, delayMs: 300, cwd: '/proj/bin' });
    expect(m.targets[1]).toMatchObject({ name: 'target 2', limit: 'unbounded', delayMs: 2000, port: 3000, cwd: '/proj' });
    expect(m.targets[2]).toMatchObject({ name: 'target 3', unix: '/run/daemon.sock', port: undefined });
  });

  test.each([
    ['not JSON', '{targets:', /targets\.json: not valid JSON/],
    ['no targets', '{}', /targets\.json: targets must be a non-empty array/],
    ['unknown top-level field', manifest([{ cmd: 'x', model: 'prefork' }], { multiplier: 2 }), /targets\.json: multiplier is not a known field/],
    ['missing model', manifest([{ cmd: 'x' }]), /targets\.json: targets\[0\]\.model is required/],
    ['unknown model', manifest([{ cmd: 'x', model: 'fibers' }]), /targets\.json: targets\[0\]\.model must be one of/],
    ['typo in a field', manifest([{ cmd: 'x', model: 'prefork', delay_ms: 5 }]), /targets\.json: targets\[0\]\.delay_ms is not a known field/],
    ['wrong type', manifest([{ cmd: 'x', model: 'prefork', workers: '4' }]), /targets\.json: targets\[0\]\.workers must be a positive integer, got "4"/],
    ['bad value', manifest([{ cmd: 'x', model: 'prefork' }, { cmd: 'y', model: 'prefork', workers: 0 }]), /targets\.json: targets\[1\]\.workers must be a positive integer, got 0/],
    ['port out of range', manifest([{ cmd: 'x', model: 'prefork', port: 70000 }]), /targets\[0\]\.port must be at most 65535/],
    ['a socket path with a port', manifest([{ cmd: 'x', model: 'prefork', unix: '/run/x.sock', port: 8080 }]), /targets\[0\]\.unix cannot go with port/],
    ['{socket} with {port}', manifest([{ cmd: 'x {socket} {port}', model: 'prefork' }]), /targets\[0\]\.cmd has both \{socket\} and \{port\}/],
    ['env not strings', manifest([{ cmd: 'x', model: 'prefork', env: { A: 1 } }]), /targets\[0\]\.env must be an object of string values/],
    ['duplicate names', manifest([{ name: 'a', cmd: 'x', model: 'prefork' }, { name: 'a', cmd: 'y', model: 'prefork' }]), /targets\[1\]\.name "a" is used twice/],
    ['bad multiplier', manifest([{ cmd: 'x', model: 'prefork' }], { timeoutMultiplier: -1 }), /timeoutMultiplier must be a positive number/],
  ])('%s: a usage error naming the file and the field', (_label, text, message) => {
    expect(() => parseManifest(text, 'targets.json')).toThrow(UsageError);
    expect(() => parseManifest(text, 'targets.json')).toThrow(message);
  });
});

describe('expect-fail file', () => {
  const text = '# known bugs\nresources.zombies\n\nlegacy close.eof.*   # half-close unsupported\n';
  test('entries apply to every target or to the named one', () => {
    const entries = parseExpectFail(text, 'xfail.txt');
    expect(expectedFailuresFor(entries, 'other')).toEqual(['resources.zombies']);
    const legacy = expectedFailuresFor(entries, 'legacy');
    expect(legacy).toContain('resources.zombies');
    expect(legacy.filter((id) => id.startsWith('close.eof.')).length).toBeGreaterThan(0);
  });
  test('a line that matches no case names the file and line', () => {
    expect(() => parseExpectFail('protocol.ack.single\nresources.zombie\n', 'xfail.txt')).toThrow('xfail.txt:2: "resources.zombie" matches no case id');
    expect(() => parseExpectFail('a b c\n', 'xfail.txt')).toThrow(/xfail\.txt:1: expected/);
  });
});

describe('case selection', () => {
  test('--only and --skip globs combine', () => {
    const ids = selectCases(['protocol.*', 'close.goodbye.*'], ['protocol.framing.*']).map((c) => c.id);
    expect(ids.some((id) => id.startsWith('protocol.framing.'))).toBe(false);
    expect(ids).toContain('protocol.ack.single');
    expect(ids).toContain('close.goodbye.fin');
    expect(ids.some((id) => id.startsWith('resources.'))).toBe(false);
  });
  test('no globs: every case', () => {
    expect(selectCases()).toHaveLength(allCases.length);
  });
  test('a glob that matches nothing, or nothing left, is a usage error', () => {
    expect(() => selectCases(['protocl.*'])).toThrow('--only protocl.* matches no case id');
    expect(() => selectCases([], ['nope'])).toThrow('--skip nope matches no case id');
    expect(() => selectCases(['protocol.*'], ['*'])).toThrow('leave no case to run');
  });
});
