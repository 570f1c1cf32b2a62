/** The concurrency models the kit knows, and what each promises. */
export const MODELS = [
  'single-process',
  'prefork',
  'thread-pool',
  'event-loop',
  'fork-per-connection',
  'master-worker',
  'thread-per-connection',
] as const;

export type ModelName = (typeof MODELS)[number];

/** Models whose reference servers this project ships. */
export const REFERENCE_MODELS: readonly ModelName[] = MODELS.filter((m) => m !== 'thread-per-connection');

/** Sessions served at once: a number, or 'unbounded'. */
export type Limit = number | 'unbounded';

export const DEFAULT_POOL_SIZE = 5;

/**
 * What a model is, in one row per model: the kit reads every model trait from here.
 * - `limit`: `one` session at a time, a `pool` of N (declared with {workers}), or `unbounded`;
 * - `perSession`: what the server spends on each session: a `process`, a `thread`, or `none`;
 * - `processPool`: its workers are processes that must be replaced when they die;
 * - `manySockets`: it is meant to hold thousands of idle connections (the bench's c10k run).
 */
export interface ModelTraits {
  description: string;
  limit: 'one' | 'pool' | 'unbounded';
  perSession: 'process' | 'thread' | 'none';
  processPool: boolean;
  manySockets: boolean;
}

export const MODEL_TRAITS: Record<ModelName, ModelTraits> = {
  'single-process': {
    description: 'one loop: accept, serve that client to the end, accept the next (serves 1)',
    limit: 'one', perSession: 'none', processPool: false, manySockets: false,
  },
  prefork: {
    description: 'N worker processes created before accepting, each serving one session at a time (serves N)',
    limit: 'pool', perSession: 'none', processPool: true, manySockets: false,
  },
  'thread-pool': {
    description: 'main thread accepts; N threads take whole sessions from a shared queue (serves N)',
    limit: 'pool', perSession: 'none', processPool: false, manySockets: false,
  },
  'event-loop': {
    description: 'one thread, readiness notification, non-blocking I/O (unbounded)',
    limit: 'unbounded', perSession: 'none', processPool: false, manySockets: true,
  },
  'fork-per-connection': {
    description: 'a child process per connection, reaped by a SIGCHLD + waitpid loop (unbounded)',
    limit: 'unbounded', perSession: 'process', processPool: false, manySockets: false,
  },
  'master-worker': {
    description: 'a master plus one event-loop worker per core; dead workers replaced (unbounded)',
    limit: 'unbounded', perSession: 'none', processPool: true, manySockets: true,
  },
  'thread-per-connection': {
    description: 'a new thread per connection (unbounded)',
    limit: 'unbounded', perSession: 'thread', processPool: false, manySockets: false,
  },
};

/** The model takes a pool size ({workers}). */
export function hasPool(model: ModelName): boolean {
  return MODEL_TRAITS[model].limit === 'pool';
}

export function isModel(name: string): name is ModelName {
  return (MODELS as readonly string[]).includes(name);
}

/** The limit a model promises, given its declared pool size. */
export function limitOf(model: ModelName, workers?: number): Limit {
  const { limit } = MODEL_TRAITS[model];
  return limit === 'one' ? 1 : limit === 'pool' ? workers ?? DEFAULT_POOL_SIZE : 'unbounded';
}

/** Models whose workers are processes that must be replaced when they die. */
export function hasProcessPool(model: ModelName): boolean {
  return MODEL_TRAITS[model].processPool;
}

/** The models whose workers are processes that must be replaced when they die. */
export const PROCESS_POOL_MODELS: readonly ModelName[] = MODELS.filter(hasProcessPool);

/** Light: a session's process is a fork() of the server; heavy: a whole interpreter started per session. */
export type CrowdWeight = 'heavy' | 'light';

/**
 * A crowd of sessions against this target starts a process each, and each a whole interpreter (unless
 * weighed light): it loads the machine in bursts, so cases that bring a crowd run with the machine to
 * themselves. A thread per connection, or a bare fork(), costs too little to matter.
 */
export function crowdsAreHeavy(target: { model: ModelName; crowdWeight?: CrowdWeight }): boolean {
  return MODEL_TRAITS[target.model].perSession === 'process' && target.crowdWeight !== 'light';
}
