import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
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

/** The kit's version, which keys the cache of C servers built on first use. */
function kitVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Where the C servers are: the package's own build (a checkout, where `npm ci` builds them), or else a
 * per-user cache keyed by the kit's version, where `ensureCServers` builds them on first use (an
 * installed package: npm runs no build script of a dependency). SM_C_BUILD=build-sanitize names the
 * AddressSanitizer + UBSan build of a checkout.
 */
export function cBuildDir(): string {
  const root = packageRoot();
  if (process.env.SM_C_BUILD) return join(root, 'servers', 'c', process.env.SM_C_BUILD);
  const own = join(root, 'servers', 'c', 'build');
  if (existsSync(own)) return own;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'server-models', kitVersion(), 'c');
}
