import { existsSync } from 'node:fs';
import { ModelName, REFERENCE_MODELS } from '../../harness/models';
import { Language, referenceServerPath } from '../../reference';

/** A reference server run by hand (not through the kit): its language and model. */
export interface ReferenceServer {
  lang: Language;
  model: ModelName;
  name: string;
}

// The C servers only where they are built (no C compiler, no C servers); the TypeScript ones always.
const langs: Language[] = (['ts', 'c'] as const).filter((lang) => lang === 'ts' || existsSync(referenceServerPath('event-loop', lang)));

/** Every reference server this machine has, TypeScript first. */
export const builtReferenceServers: ReferenceServer[] = langs.flatMap((lang) => REFERENCE_MODELS.map((model) => ({ lang, model, name: `${lang}/${model}` })));

/** The executable and arguments that start `s` with `args`. */
export function serverArgv(s: ReferenceServer, ...args: string[]): [string, string[]] {
  return s.lang === 'ts' ? [process.execPath, [referenceServerPath(s.model, s.lang), ...args]] : [referenceServerPath(s.model, s.lang), args];
}
