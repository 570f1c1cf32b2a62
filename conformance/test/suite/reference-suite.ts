import { findCase } from '../../cases';
import { ConformanceCase } from '../../cases/types';
import { describeConformance } from '../../jest/describe-conformance';
import { ModelName } from '../../harness/models';
import { Language, referenceTarget, Transport } from '../../reference';

/** Work delay the suite runs reference servers with: short, but long enough to tell serial from parallel. */
export const SUITE_DELAY_MS = 200;

/**
 * The whole suite against one reference server, over TCP or (`transport: 'unix'`) a Unix-domain socket;
 * a C server that is not built is skipped with one line.
 */
export function describeReference(model: ModelName, lang: Language, options: { workers?: number; cases?: string[]; transport?: Transport } = {}): void {
  const spec = referenceTarget(model, lang, SUITE_DELAY_MS, options.workers, options.transport);
  if (!spec.available && lang === 'c') {
    describe(`${spec.name}`, () => {
      test.skip(`not built here (no C compiler?): run "make -C servers/c"`, () => undefined);
    });
    return;
  }
  if (!spec.available) {
    test(`${spec.name} is built`, () => {
      throw new Error(`${spec.name} is missing from dist/: run "npm run build"`);
    });
    return;
  }
  const cases = options.cases?.map((id) => findCase(id)).filter((c): c is ConformanceCase => c !== undefined);
  // Under AddressSanitizer, resident memory is the sanitizer's: freed chunks sit in its quarantine
  // (256 MiB by default) instead of being reused, so a server that buffers and frees grows with the
  // bytes it was sent. The memory case judges the plain build only.
  const skip = lang === 'c' && process.env.SM_C_BUILD === 'build-sanitize' ? ['resources.memory'] : undefined;
  const name = `${spec.name}${options.workers ? ` --workers ${options.workers}` : ''}${options.transport === 'unix' ? ' over a Unix socket' : ''}`;
  // Reference servers are held to SHOULD cases too, and every measurement must be made: a warn
  // or blocked outcome fails their test.
  describeConformance({ ...spec, name }, { cases, skip, failOn: ['fail', 'warn', 'blocked'], concurrent: true });
}
