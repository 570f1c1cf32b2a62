import { readFileSync } from 'node:fs';
import { allCases, matchCases } from '../cases';
import { UsageError } from '../flags';

/**
 * One line of an expect-fail file: a case id glob, optionally preceded by the target name it is
 * limited to. Example file:
 *   # known bugs, tracked in our issue 12
 *   resources.zombies
 *   legacy-server close.*
 */
export interface ExpectedFailure {
  target?: string;
  glob: string;
  line: number;
}

/** Parses an expect-fail file; every error names the file and line. */
export function parseExpectFail(text: string, file: string): ExpectedFailure[] {
  const entries: ExpectedFailure[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    if (words.length > 2) throw new UsageError(`${file}:${i + 1}: expected "<case id>" or "<target name> <case id>", got "${line}"`);
    const glob = words[words.length - 1];
    if (matchCases(glob).length === 0) throw new UsageError(`${file}:${i + 1}: "${glob}" matches no case id (see: server-models list)`);
    entries.push({ target: words.length === 2 ? words[0] : undefined, glob, line: i + 1 });
  });
  return entries;
}

/** Reads an expect-fail file and checks that every target it names exists. */
export function loadExpectFail(file: string, targetNames: string[]): ExpectedFailure[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read expect-fail file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const entries = parseExpectFail(text, file);
  for (const e of entries) {
    if (e.target !== undefined && !targetNames.includes(e.target)) {
      throw new UsageError(`${file}:${e.line}: no target named "${e.target}" (targets: ${targetNames.join(', ')})`);
    }
  }
  return entries;
}

/** Ids of the cases expected to fail for one target. */
export function expectedFailuresFor(entries: ExpectedFailure[], targetName: string): string[] {
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.target !== undefined && e.target !== targetName) continue;
    for (const c of matchCases(e.glob, allCases)) ids.add(c.id);
  }
  return [...ids];
}
