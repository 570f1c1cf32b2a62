import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pollUntil } from '../../harness/deadlines';
import { compiledModule } from '../../harness/paths';
import { listProcesses } from '../../harness/procfs';
import { fixtureCommand } from './launch-fixtures';

const alive = (pid: number) => listProcesses().some((p) => p.pid === pid && p.state !== 'Z');

/** Starts a kit process that launches a server; resolves with the kit's process and the server's pid. */
async function kitWithServer(env: NodeJS.ProcessEnv = {}) {
  const kit = spawn(process.execPath, [compiledModule('fixtures/launch/kit-then-waits'), fixtureCommand('dies-on-connection', '{port}')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(kit.stdout, 'data')) as [Buffer];
  return { kit, serverPid: Number(line.toString().trim()) };
}

describe('watchdog', () => {
  test('SIGKILL of the kit process leaves no server running, and none of their output files', async () => {
    const { kit, serverPid } = await kitWithServer();
    expect(alive(serverPid)).toBe(true);
    const outputFiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`server-models-output-${kit.pid}-`));
    expect(outputFiles()).toHaveLength(2); // the server's stdout and stderr
    kit.kill('SIGKILL');
    expect(await pollUntil(() => !alive(serverPid), 5000)).toBe(true);
    expect(await pollUntil(() => outputFiles().length === 0, 5000)).toBe(true);
  });

  test('SIGKILL of Jest\'s main process kills the servers of a surviving worker, and the orphaned worker', async () => {
    // A stand-in "main" process whose child is a kit process in the role of a Jest worker.
    const main = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const w = spawn(process.execPath, process.argv.slice(1), { env: { ...process.env, JEST_WORKER_ID: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      w.stdout.on('data', (d) => process.stdout.write(String(w.pid) + ' ' + d));
      setInterval(() => {}, 60000);
    `, compiledModule('fixtures/launch/kit-then-waits'), fixtureCommand('dies-on-connection', '{port}')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(main.stdout!, 'data')) as [Buffer];
    const [workerPid, serverPid] = line.toString().trim().split(' ').map(Number);
    expect(alive(serverPid)).toBe(true);
    main.kill('SIGKILL');
    expect(await pollUntil(() => !alive(serverPid), 5000)).toBe(true);
    // A Jest worker outlives its main process, and can never report again: the watchdog ends it.
    expect(await pollUntil(() => !alive(workerPid), 5000)).toBe(true);
  });
});
