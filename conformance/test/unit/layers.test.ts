import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** Layers point one way: harness → cases → runner → reports → CLI / Jest API (and the soak). */
const root = join(__dirname, '..', '..');

/** What each layer may import from the kit, by top-level module (a directory or a file without .ts). */
const ALLOWED: Record<string, string[]> = {
  harness: ['harness'],
  flags: [],
  cases: ['cases', 'harness', 'flags'],
  runner: ['runner', 'cases', 'harness'],
  bench: ['bench', 'harness'],
  reports: ['reports', 'cases', 'harness', 'bench', 'runner'],
  // the partition of a run's targets into shards: pure, from the targets and their cases
  shard: ['shard', 'cases', 'harness'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'test' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The kit's top-level module a relative import of `file` lands in, or undefined outside the kit. */
function moduleOf(file: string, spec: string): string | undefined {
  const target = relative(root, normalize(join(dirname(file), spec)));
  if (target.startsWith('..')) return undefined;
  return target.split(/[\\/]/)[0].replace(/\.ts$/, '');
}

test('no layer imports one above it; nothing below the CLI imports the CLI', () => {
  const wrong: string[] = [];
  for (const file of sources(root)) {
    const layer = relative(root, file).split(/[\\/]/)[0].replace(/\.ts$/, '');
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const to = moduleOf(file, m[1]);
      if (to === undefined) continue;
      const allowed = ALLOWED[layer];
      if (allowed ? !allowed.includes(to) : to === 'cli' && layer !== 'cli') wrong.push(`${relative(root, file)} imports ${m[1]}`);
    }
  }
  expect(wrong).toEqual([]);
});
