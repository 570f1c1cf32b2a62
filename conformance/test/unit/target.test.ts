import { expandCommand, resolveTarget, splitCommand, TargetError } from '../../harness/target';

describe('resolveTarget', () => {
  test('fills in defaults and derives the limit from the model', () => {
    const t = resolveTarget({ name: 'x', cmd: './server --port {port}', model: 'prefork' });
    expect(t).toMatchObject({ limit: 5, delayMs: 2000, host: '127.0.0.1', port: undefined });
    expect(resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'thread-pool', workers: 3 }).limit).toBe(3);
    expect(resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'single-process' }).limit).toBe(1);
    expect(resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'event-loop' }).limit).toBe('unbounded');
    expect(resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'thread-per-connection' }).limit).toBe('unbounded');
  });
  test('a command without {port} gets the fixed port 3000 unless told otherwise', () => {
    expect(resolveTarget({ name: 'x', cmd: './a.out', model: 'event-loop', delayMs: 1000 })).toMatchObject({ port: 3000, delayMs: 1000 });
    expect(resolveTarget({ name: 'x', cmd: './a.out', model: 'event-loop', port: 8080 }).port).toBe(8080);
  });
  test('names the bad field', () => {
    expect(() => resolveTarget({ name: 'x', cmd: '', model: 'event-loop' })).toThrow(/cmd/);
    expect(() => resolveTarget({ name: 'x', cmd: 'a', model: 'fibers' as never })).toThrow(/model must be one of/);
    expect(() => resolveTarget({ name: 'x', cmd: 'a', model: 'prefork', workers: 0 })).toThrow(/workers/);
    expect(() => resolveTarget({ name: 'x', cmd: 'a', model: 'prefork', delayMs: -1 })).toThrow(/delayMs/);
    expect(() => resolveTarget({ name: 'x', cmd: 'a', model: 'prefork', port: 70000 })).toThrow(TargetError);
  });
});

describe('expandCommand', () => {
  test('substitutes every placeholder', () => {
    const t = resolveTarget({ name: 'x', cmd: 'srv --port {port} --delay {delayMs} -w {workers} {port}', model: 'prefork', workers: 3, delayMs: 150 });
    expect(expandCommand(t, { host: '127.0.0.1', port: 4321 })).toBe('srv --port 4321 --delay 150 -w 3 4321');
  });
});

describe('splitCommand', () => {
  test('splits words and honours quotes and backslashes', () => {
    expect(splitCommand(`node "my server.js" --name 'a b' x\\ y`)).toEqual(['node', 'my server.js', '--name', 'a b', 'x y']);
  });
  test('leaves pipes, variables and redirections to a real shell', () => {
    expect(splitCommand('cd srv && ./run')).toBeUndefined();
    expect(splitCommand('./run > log')).toBeUndefined();
    expect(splitCommand('PORT=$P ./run')).toBeUndefined();
  });
  test('reports an unterminated quote', () => {
    expect(() => splitCommand('node "oops')).toThrow(/unterminated/);
  });
});
