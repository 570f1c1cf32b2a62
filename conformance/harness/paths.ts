import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The root of the server-models package (the folder holding its package.json), found upward from here. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'server-models') return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the server-models package root');
    dir = parent;
  }
}

/**
 * Path of a compiled module of this package (`conformance/harness/x` → `dist/conformance/harness/x.js`).
 * Child processes always run compiled JavaScript, also when the kit itself runs under ts-jest.
 */
export function compiledModule(relative: string): string {
  return join(packageRoot(), 'dist', `${relative}.js`);
}
