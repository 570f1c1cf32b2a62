/** Flags that several commands take alike, and how they are read: a wrong value is a usage error. */
import { resolveMultiplier } from '../harness/deadlines';
import { isModel, ModelName, MODELS } from '../harness/models';
import { resolveTarget, Target, TargetError, TargetSpec } from '../harness/target';
import { stringFlags, UsageError } from '../flags';

/** The flags by which `check` and `bench` describe one server: its command, its name, its model, its pool size, its host. */
export const TARGET_FLAGS = stringFlags('cmd', 'name', 'model', 'workers', 'host');

/** The value of --model, which must name a model. */
export function modelFlag(model: string): ModelName {
  if (!isModel(model)) throw new UsageError(`--model must be one of ${MODELS.join(', ')}, got "${model}"`);
  return model;
}

/** The target the flags describe: whatever is wrong with it is a usage error. */
export function targetFromFlags(spec: TargetSpec): Target {
  try {
    return resolveTarget(spec);
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message);
    throw err;
  }
}

/** --timeout-multiplier (else SM_TIMEOUT_MULTIPLIER, else 1): a value that is not a positive number is a usage error. */
export function multiplierFlag(value: string | number | undefined): number {
  try {
    return resolveMultiplier(value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
