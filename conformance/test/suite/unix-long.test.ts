import { describeReference } from './reference-suite';
import { REFERENCE_MODELS } from '../../harness/models';
import { Language } from '../../reference';

// The full tier (too long for CI): the ten reference servers unix-quick.test.ts leaves out, each through every case over a
// Unix-domain socket ({socket}), as the other suite files run them over TCP.
const QUICK: [string, Language][] = [['event-loop', 'c'], ['prefork', 'ts']];
for (const lang of ['ts', 'c'] as const) {
  for (const model of REFERENCE_MODELS) {
    if (!QUICK.some(([m, l]) => m === model && l === lang)) describeReference(model, lang, { transport: 'unix' });
  }
}
