import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../harness/paths';
import { scratchDir } from '../scratch';

interface JestJson {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

const root = packageRoot();
const project = join(root, 'fixtures', 'example-project');

/** What `npm install` does for the example's `file:../..` dependency: a link to this package. */
function linkKitIntoExample(): void {
  const link = join(project, 'node_modules', 'server-models');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  try {
    lstatSync(link);
  } catch {
    symlinkSync(relative(join(project, 'node_modules'), root), link, 'dir');
  }
}

/** Runs the example project's own Jest, in its own directory, as its developers would. */
function runExampleJest(outputFile: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', '--outputFile', outputFile], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('describeConformance from a user project (fixtures/example-project)', () => {
  test('its Jest run has one passing test per selected case', async () => {
    linkKitIntoExample();
    const out = join(scratchDir('sm-example'), 'jest.json');
    const run = await runExampleJest(out);
    if (run.code !== 0) throw new Error(`example project's jest exited ${run.code}:\n${run.output.slice(-3000)}`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
    const names = json.testResults.flatMap((f) => f.assertionResults.map((a) => a.fullName));
    expect(json.numFailedTests).toBe(0);
    expect(names).toContain('example event-loop server [event-loop] protocol.ack.single (MUST)');
    expect(names).toContain('example event-loop server [event-loop] concurrency.limit (MUST)');
    expect(names.every((n) => / (protocol|close|concurrency)\./.test(n))).toBe(true);
    expect(json.numPassedTests).toBe(names.length);
  });
});
