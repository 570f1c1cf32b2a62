import { spawn } from 'node:child_process';
import { builtReferenceServers, ReferenceServer, serverArgv } from './reference-servers';

// A server that prints its ready line must already stop gracefully on SIGTERM: a supervisor (or the
// kit) may signal it the moment it reads that line. Before the handlers were installed first, the
// TypeScript event loop, fork-per-connection, single-process and thread-pool servers died of the
// default action in 115 of 200 such starts (fork-per-connection).
const TRIES = 8;

/** Starts the server, sends SIGTERM as soon as its ready line arrives; how it exited. */
function signalledAtReady(s: ReferenceServer): Promise<string> {
  const [file, argv] = serverArgv(s, '--port', '0', '--delay-ms', '0', '--workers', '2');
  return new Promise((resolve) => {
    const server = spawn(file, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) server.kill('SIGTERM');
    });
    server.on('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit ${code}`));
  });
}

describe.each(builtReferenceServers)('$name', (s) => {
  test(`exits 0 when SIGTERM follows its ready line at once (${TRIES} starts)`, async () => {
    const exits: string[] = [];
    for (let i = 0; i < TRIES; i += 2) exits.push(...(await Promise.all([signalledAtReady(s), signalledAtReady(s)])));
    expect(exits).toEqual(Array(TRIES).fill('exit 0'));
  });
});
