import { execFileSync } from 'node:child_process';
import { describeConformance } from '../../jest/describe-conformance';
import { findCase } from '../../cases';
import { ConformanceCase } from '../../cases/types';
import { compiledModule, packageRoot } from '../../harness/paths';
import { hasProcessPool, ModelName, REFERENCE_MODELS } from '../../harness/models';
import { Language, referenceCommand, referenceTarget } from '../../reference';
import { SUITE_DELAY_MS } from './reference-suite';
import { TIER } from '../tier';
import { scratchDir } from '../scratch';

/** How people start servers: through npx, a shell without exec, a Node launcher that forwards signals. */
export const LAUNCH_STYLES = ['npx serve', 'sh -c', 'bash -c', 'node launcher'] as const;
export type LaunchStyle = (typeof LAUNCH_STYLES)[number];

/**
 * The cases a launcher can change: the ones that count the server's processes, signal it or its
 * workers, and judge its exit. The others talk TCP only, where a launcher takes no part;
 * resources.zombies and resources.fds walk the very tree resources.children counts.
 */
export const LAUNCHER_CASES = ['resources.children', 'lifecycle.sigterm.exits', 'lifecycle.sigterm', 'lifecycle.worker-respawn'];

/** The command line that starts a reference server in a launch style. */
export function launchedCommand(style: LaunchStyle, model: ModelName, lang: Language): string {
  const direct = referenceCommand(model, lang);
  const pool = model === 'prefork' || model === 'thread-pool';
  switch (style) {
    case 'npx serve':
      return `npx --no server-models serve ${model} --lang ${lang} --port {port} --delay-ms {delayMs}${pool ? ' --workers {workers}' : ''}`;
    case 'sh -c':
    case 'bash -c':
      return `${style.split(' ')[0]} -c '${direct}; exit $?'`;
    case 'node launcher':
      return `${JSON.stringify(process.execPath)} ${JSON.stringify(compiledModule('fixtures/launch/forwarding-launcher'))} ${direct}`;
  }
}

/**
 * The server each launch style starts in the quick tier: one with worker processes to count, signal
 * and replace (every launcher case applies to it), the two such models taken in turn. The long tier
 * starts the other of the two, the full tier all six.
 */
const QUICK_LAUNCH_MODEL: Record<LaunchStyle, ModelName> = { 'npx serve': 'prefork', 'sh -c': 'master-worker', 'bash -c': 'prefork', 'node launcher': 'master-worker' };

/** Whether this tier starts `model` in `style`. */
function launchedInThisTier(style: LaunchStyle, model: ModelName): boolean {
  if (TIER === 'full') return true;
  if (model === QUICK_LAUNCH_MODEL[style]) return TIER === 'quick';
  return TIER === 'long' && hasProcessPool(model);
}

/**
 * A private npm cache for this file's npx starts, filled by one npx run before its cases. npx writes its
 * entry for the package into the cache when it first resolves it: npx processes that do so at the same
 * time (the cases of this file run side by side, other files beside them) read each other's half-written
 * package.json and exit with ENOENT.
 */
function warmNpxCache(): string {
  const cache = scratchDir('sm-npx-cache');
  beforeAll(() => {
    execFileSync('npx', ['--no', 'server-models', 'list'], { cwd: packageRoot(), env: { ...process.env, npm_config_cache: cache }, stdio: 'ignore' });
  }, 120_000);
  return cache;
}

/** The launcher cases against the reference servers of one language, started in every launch style. */
export function describeLaunchStyles(lang: Language): void {
  const cases = LAUNCHER_CASES.map((id) => findCase(id)).filter((c): c is ConformanceCase => c !== undefined);
  for (const style of LAUNCH_STYLES) {
    const models = REFERENCE_MODELS.filter((model) => launchedInThisTier(style, model));
    for (const model of models) {
      const spec = referenceTarget(model, lang, SUITE_DELAY_MS);
      if (!spec.available) {
        test.skip(`${spec.name} via ${style}: not built here`, () => undefined);
        continue;
      }
      const name = `${spec.name} via ${style}`;
      // npx finds this package's own bin from its root, as a user of the repository runs it.
      const env = style === 'npx serve' ? { npm_config_cache: warmNpxCache() } : undefined;
      describeConformance({ ...spec, name, cmd: launchedCommand(style, model, lang), cwd: packageRoot(), env }, { cases, failOn: ['fail', 'warn', 'blocked'], concurrent: true });
    }
  }
}
