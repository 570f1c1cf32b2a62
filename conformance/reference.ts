import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_POOL_SIZE, hasPool, ModelName, REFERENCE_MODELS } from './harness/models';
import { packageRoot } from './harness/paths';
import { TargetSpec } from './harness/target';

export type Language = 'ts' | 'c';

/** Where a reference server's executable lives. */
export function referenceServerPath(model: ModelName, lang: Language): string {
  const root = packageRoot();
  // SM_C_BUILD=build-sanitize points the kit at the AddressSanitizer + UBSan build of the C servers.
  return lang === 'ts' ? join(root, 'dist', 'servers', 'ts', `${model}.js`) : join(root, 'servers', 'c', process.env.SM_C_BUILD ?? 'build', model);
}

/** The command line that starts a reference server, with the kit's placeholders. */
export function referenceCommand(model: ModelName, lang: Language): string {
  const file = referenceServerPath(model, lang);
  const run = lang === 'ts' ? `${JSON.stringify(process.execPath)} ${JSON.stringify(file)}` : JSON.stringify(file);
  return `${run} --port {port} --delay-ms {delayMs}${hasPool(model) ? ' --workers {workers}' : ''}`;
}

/** A reference server as a target; `available` says whether it is built on this machine. */
export function referenceTarget(model: ModelName, lang: Language, delayMs: number, workers?: number): TargetSpec & { available: boolean } {
  return {
    name: `${lang}/${model}`,
    cmd: referenceCommand(model, lang),
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
