import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_POOL_SIZE, hasPool, ModelName, REFERENCE_MODELS } from './harness/models';
import { cBuildDir, packageRoot } from './harness/paths';
import { TargetSpec } from './harness/target';

export type Language = 'ts' | 'c';

/**
 * Makes sure the C servers are built: nothing to do where they are; otherwise builds them into the
 * per-user cache with make and the C compiler, into a fresh directory renamed into place (two kits
 * starting at once do not see half a build). Returns why they cannot be had, or undefined.
 */
export function ensureCServers(): string | undefined {
  const dir = cBuildDir();
  if (REFERENCE_MODELS.every((m) => existsSync(join(dir, m)))) return undefined;
  const sources = join(packageRoot(), 'servers', 'c');
  if (process.env.SM_C_BUILD || dir === join(sources, 'build') || !existsSync(join(sources, 'Makefile'))) {
    return `the C servers are not built in ${dir} (make -C ${sources})`;
  }
  const building = `${dir}.building-${process.pid}`;
  try {
    mkdirSync(dirname(dir), { recursive: true });
    execFileSync('make', ['-s', '-C', sources, `OUT=${building}`, 'all'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      renameSync(building, dir);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another kit got there first
    }
    return undefined;
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'make is not installed' : (e.stderr?.toString().trim().split('\n').pop() ?? e.message);
    return `the C servers could not be built (needs make and a C compiler): ${why}`;
  }
}

/** Where a reference server's executable lives. */
export function referenceServerPath(model: ModelName, lang: Language): string {
  return lang === 'ts' ? join(packageRoot(), 'dist', 'servers', 'ts', `${model}.js`) : join(cBuildDir(), model);
}

/** How a reference server listens: on a TCP port (`{port}`), or on a Unix-domain socket (`{socket}`). */
export type Transport = 'tcp' | 'unix';

/** The command line that starts a reference server, with the kit's placeholders. */
export function referenceCommand(model: ModelName, lang: Language, transport: Transport = 'tcp'): string {
  const file = referenceServerPath(model, lang);
  const run = lang === 'ts' ? `${JSON.stringify(process.execPath)} ${JSON.stringify(file)}` : JSON.stringify(file);
  const listen = transport === 'unix' ? '--unix {socket}' : '--port {port}';
  return `${run} ${listen} --delay-ms {delayMs}${hasPool(model) ? ' --workers {workers}' : ''}`;
}

/** A reference server as a target; `available` says whether it is built on this machine. */
export function referenceTarget(model: ModelName, lang: Language, delayMs: number, workers?: number, transport: Transport = 'tcp'): TargetSpec & { available: boolean } {
  return {
    name: `${lang}/${model}`,
    cmd: referenceCommand(model, lang, transport),
    model,
    delayMs,
    workers: workers ?? (hasPool(model) ? DEFAULT_POOL_SIZE : undefined),
    readyLine: true,
    available: existsSync(referenceServerPath(model, lang)),
  };
}

/** Every reference implementation: the TypeScript ones, then the C ones. */
export function referenceTargets(delayMs: number): (TargetSpec & { available: boolean })[] {
  const langs: Language[] = ['ts', 'c'];
  return langs.flatMap((lang) => REFERENCE_MODELS.map((m) => referenceTarget(m, lang, delayMs)));
}
