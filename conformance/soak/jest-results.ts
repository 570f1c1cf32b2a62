import { readFileSync } from 'node:fs';

/** What one Jest run reported, reduced to what a soak needs. */
export interface JestRunSummary {
  passed: number;
  failed: number;
  /** Full names of failed tests, plus "<file>: <error>" for a test file that could not run. */
  failures: string[];
}

interface AssertionJson {
  fullName: string;
  status: string;
}
interface FileJson {
  name: string;
  status: string;
  message?: string;
  assertionResults?: AssertionJson[];
}
interface RunJson {
  numPassedTests?: number;
  numFailedTests?: number;
  testResults?: FileJson[];
}

/** Reads the file Jest writes with `--json --outputFile`; a missing or broken file is one failure. */
export function readJestResults(file: string, rootDir: string): JestRunSummary {
  let json: RunJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as RunJson;
  } catch (err) {
    return { passed: 0, failed: 1, failures: [`(no Jest results: ${(err as Error).message.split('\n')[0]})`] };
  }
  const failures: string[] = [];
  for (const f of json.testResults ?? []) {
    const rel = f.name.startsWith(rootDir) ? f.name.slice(rootDir.length + 1) : f.name;
    const failedTests = (f.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedTests) failures.push(`${rel} › ${a.fullName}`);
    // A file that failed without a failed test did not run at all (syntax error, crash in a hook).
    if (f.status === 'failed' && failedTests.length === 0) {
      failures.push(`${rel}: ${(f.message ?? 'test file failed').trim().split('\n')[0]}`);
    }
  }
  return { passed: json.numPassedTests ?? 0, failed: Math.max(json.numFailedTests ?? 0, failures.length), failures };
}
