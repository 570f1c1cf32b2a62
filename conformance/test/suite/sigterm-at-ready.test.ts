import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REFERENCE_MODELS } from '../../harness/models';
import { Language, referenceServerPath } from '../../reference';

// A server that prints its ready line must already stop gracefully on SIGTERM: a supervisor (or the
// kit) may signal it the moment it reads that line. Before the handlers were installed first, the
// TypeScript event loop, fork-per-connection, single-process and thread-pool servers died of the
// default action in 115 of 200 such starts (fork-per-connection).
const TRIES = 8;
const langs: Language[] = (['ts', 'c'] as const).filter((lang) => lang === 'ts' || existsSync(referenceServerPath('event-loop', lang)));
const servers = langs.flatMap((lang) => REFERENCE_MODELS.map((model) => ({ lang, model, name: `${lang}/${model}` })));

/** Starts the server, sends SIGTERM as soon as its ready line arrives; how it exited. */
function signalledAtReady(s: (typeof servers)[number]): Promise<string> {
  const args = ['--port', '0', '--delay-ms', '0', '--workers', '2'];
  const [file, argv] = s.lang === 'ts' ? [process.execPath, [referenceServerPath(s.model, s.lang), ...args]] : [referenceServerPath(s.model, s.lang), args];
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

describe.each(servers)('$name', (s) => {
  test(`exits 0 when SIGTERM follows its ready line at once (${TRIES} starts)`, async () => {
    const exits: string[] = [];
    for (let i = 0; i < TRIES; i += 2) exits.push(...(await Promise.all([signalledAtReady(s), signalledAtReady(s)])));
    expect(exits).toEqual(Array(TRIES).fill('exit 0'));
  });
});
