import { Limit, MODELS, ModelName, limitOf } from '../harness/models';
import { Target } from '../harness/target';
import { AppliesTo, ConformanceCase } from './types';

/** Whether a case is about a model with this limit (a target may declare a limit of its own). */
export function appliesToModel(appliesTo: AppliesTo, model: ModelName, limit: Limit = limitOf(model)): boolean {
  const { models } = appliesTo;
  if (models === 'all') return true;
  if (models === 'bounded') return limit !== 'unbounded';
  if (models === 'unbounded') return limit === 'unbounded';
  return models.includes(model);
}

/** The models a case applies to. */
export function modelsOf(c: ConformanceCase): ModelName[] {
  return MODELS.filter((m) => appliesToModel(c.appliesTo, m));
}

/** How a case's models read in a listing: "all", "bounded models", "unbounded models" or the names. */
export function describeAppliesTo(appliesTo: AppliesTo): string {
  const { models } = appliesTo;
  return models === 'all' ? 'all' : typeof models === 'string' ? `${models} models` : models.join(', ');
}

/** Why the case is not about this target's model, or undefined when it is. */
export function notAppliedReason(c: ConformanceCase, target: Target): string | undefined {
  if (appliesToModel(c.appliesTo, target.model, target.limit)) return undefined;
  const about = describeAppliesTo(c.appliesTo);
  const limit = target.limit === 'unbounded' ? 'unbounded' : `limit ${target.limit}`;
  return `applies to ${about} (${target.model}: ${limit})${c.appliesTo.because ? `: ${c.appliesTo.because}` : ''}`;
}
