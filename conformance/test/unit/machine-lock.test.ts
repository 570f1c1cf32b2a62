import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withMachineLock } from '../../harness/machine-lock';

// A private lock directory: these tests plant dead holders and hold the lock exclusively, which must
// not touch the machine-wide lock that other kit runs (and the other test files) are using.
const dir = mkdtempSync(join(tmpdir(), 'sm-lock-'));
const machineWide = process.env.SM_LOCK_DIR;
beforeAll(() => (process.env.SM_LOCK_DIR = dir));
afterAll(() => {
  if (machineWide === undefined) delete process.env.SM_LOCK_DIR;
  else process.env.SM_LOCK_DIR = machineWide;
  rmSync(dir, { recursive: true, force: true });
});

const hold = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withMachineLock', () => {
  test('shared holders overlap; an exclusive holder runs alone', async () => {
    const log: string[] = [];
    let inside = 0;
    let maxInsideShared = 0;
    const shared = (name: string) =>
      withMachineLock('shared', async () => {
        inside++;
        maxInsideShared = Math.max(maxInsideShared, inside);
        log.push(`${name}+`);
        await hold(60);
        log.push(`${name}-`);
        inside--;
      });
    const exclusive = withMachineLock('exclusive', async () => {
      expect(inside).toBe(0);
      log.push('X+');
      await hold(60);
      log.push('X-');
    });
    await Promise.all([shared('a'), shared('b'), exclusive, shared('c')]);
    expect(maxInsideShared).toBeGreaterThanOrEqual(2);
    const x = log.indexOf('X+');
    expect(log[x + 1]).toBe('X-'); // nothing ran inside the exclusive section
  });

  test('a shared holder can go alone for a while: others finish first, nobody runs beside it, then it is shared again', async () => {
    const log: string[] = [];
    const other = withMachineLock('shared', async () => {
      log.push('other+');
      await hold(80);
      log.push('other-');
    });
    const upgrading = withMachineLock('shared', async (lock) => {
      log.push('up+');
      await lock.alone(async () => {
        log.push('alone+');
        await hold(40);
        log.push('alone-');
      });
      const late = withMachineLock('shared', async () => log.push('late'));
      await late; // shared again: a newcomer runs beside it
      log.push('up-');
    });
    await Promise.all([other, upgrading]);
    expect(log.indexOf('alone+')).toBeGreaterThan(log.indexOf('other-'));
    expect(log[log.indexOf('alone+') + 1]).toBe('alone-');
    expect(log.indexOf('late')).toBeLessThan(log.indexOf('up-'));
  });

  test('the entry of a dead holder does not block', async () => {
    mkdirSync(join(dir, 'exclusive'), { recursive: true });
    writeFileSync(join(dir, 'exclusive', 'pid'), '999999999'); // no such process
    writeFileSync(join(dir, 'shared.999999998.0'), '');
    await expect(withMachineLock('exclusive', async () => 'ran')).resolves.toBe('ran');
    writeFileSync(join(dir, 'waiting.999999997.0'), ''); // an exclusive waiter that died waiting
    await expect(withMachineLock('shared', async () => 'ran too')).resolves.toBe('ran too');
  });
});
