import { expandCommand, hasFixedAddress, onUnixSocket, resolveTarget, splitCommand, TargetError } from '../../harness/target';

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
  test('without cmd, a server already running at host:port (with its pid if given)', () => {
    expect(resolveTarget({ name: '', model: 'event-loop', port: 8080 })).toMatchObject({ running: true, cmd: '', name: '127.0.0.1:8080', port: 8080 });
    expect(resolveTarget({ name: 'x', model: 'event-loop', host: '::1', port: 8080, pid: 42 })).toMatchObject({ running: true, host: '::1', pid: 42 });
    expect(resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'event-loop' }).running).toBe(false);
    expect(() => resolveTarget({ name: 'x', model: 'event-loop' })).toThrow(/cmd must be given .*or the port of a server already running/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'event-loop', pid: 42 })).toThrow(/pid is for a server already running/);
    expect(() => resolveTarget({ name: 'x', model: 'event-loop', port: 8080, pid: 0 })).toThrow(/pid must be a positive integer/);
  });
});

describe('expandCommand', () => {
  test('substitutes every placeholder', () => {
    const t = resolveTarget({ name: 'x', cmd: 'srv --port {port} --delay {delayMs} -w {workers} {port}', model: 'prefork', workers: 3, delayMs: 150 });
    expect(expandCommand(t, { host: '127.0.0.1', port: 4321 })).toBe('srv --port 4321 --delay 150 -w 3 4321');
  });
});

describe('a server on a Unix socket', () => {
  test('{socket} is replaced by the path the kit chose; the target has no port, and no fixed address', () => {
    const t = resolveTarget({ name: 'x', cmd: 'srv --unix {socket} --delay {delayMs} {socket}', model: 'event-loop', delayMs: 150 });
    expect([t.port, t.unix]).toEqual([undefined, undefined]);
    expect(onUnixSocket(t)).toBe(true);
    expect(hasFixedAddress(t)).toBe(false);
    expect(expandCommand(t, { path: '/tmp/server-models-a1/server.sock' })).toBe('srv --unix /tmp/server-models-a1/server.sock --delay 150 /tmp/server-models-a1/server.sock');
  });
  test('a fixed path: no port, and one server at a time', () => {
    const t = resolveTarget({ name: 'x', cmd: './srv', model: 'event-loop', unix: '/run/srv.sock' });
    expect(t).toMatchObject({ port: undefined, unix: '/run/srv.sock' });
    expect(onUnixSocket(t)).toBe(true);
    expect(hasFixedAddress(t)).toBe(true);
    expect(onUnixSocket(resolveTarget({ name: 'x', cmd: './srv --port {port}', model: 'event-loop' }))).toBe(false);
  });
  test('one address only: {socket} with {port}, a path with a port or a host, a path too long, are errors naming the field', () => {
    expect(() => resolveTarget({ name: 'x', cmd: 'srv {socket} {port}', model: 'event-loop' })).toThrow(/^cmd has both \{socket\} and \{port\}/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv {socket}', model: 'event-loop', port: 8080 })).toThrow(/^port cannot go with \{socket\}/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv {socket}', model: 'event-loop', unix: '/run/x.sock' })).toThrow(/^unix cannot go with \{socket\}/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv {port}', model: 'event-loop', unix: '/run/x.sock' })).toThrow(/^unix cannot go with \{port\}/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv', model: 'event-loop', unix: '/run/x.sock', host: '::1' })).toThrow(/^unix cannot go with host/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv', model: 'event-loop', unix: '' })).toThrow(/^unix must be a socket path/);
    expect(() => resolveTarget({ name: 'x', cmd: 'srv', model: 'event-loop', unix: `/${'x'.repeat(107)}` })).toThrow(/^unix must be at most 107 bytes/);
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
