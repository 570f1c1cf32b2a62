import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { CapturedOutput } from '../../harness/captured-output';
import { pollUntil } from '../../harness/deadlines';

/** Holds this process's event loop for `ms`: a kit too busy to read its targets' output. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('a target\'s output captured in a file', () => {
  test('never makes a chatty target wait for the kit, is cut back as it grows, and keeps its last lines after close', async () => {
    const err = new CapturedOutput('err');
    // 20 MB of "accept failed" lines, as a server logging each failed accept() would write them
    const child = spawn('sh', ['-c', 'yes "accept: Too many open files" | head -c 20000000 >&2; echo the last line >&2'], { stdio: ['ignore', 'ignore', err.fd] });
    try {
      busy(1500);
      // A pipe would have held the writer at 64 KiB while the kit was busy; a file took it all.
      expect(fstatSync(err.fd).size).toBeGreaterThan(1024 * 1024);
      expect(await pollUntil(() => child.exitCode !== null, 10_000)).toBe(true);
      // cut back to nothing once past 1 MiB, the end kept
      expect(await pollUntil(() => fstatSync(err.fd).size === 0, 5000)).toBe(true);
      expect(err.text().trimEnd().endsWith('the last line')).toBe(true);
      expect(err.text().length).toBeLessThanOrEqual(65536);
      err.close();
      expect(err.text().trimEnd().endsWith('the last line')).toBe(true);
    } finally {
      child.kill('SIGKILL');
      err.close();
    }
  });
});
