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

export const MODEL_DESCRIPTIONS: Record<ModelName, string> = {
  'single-process': 'one loop: accept, serve that client to the end, accept the next (serves 1)',
  prefork: 'N worker processes created before accepting, each serving one session at a time (serves N)',
  'thread-pool': 'main thread accepts; N threads take whole sessions from a shared queue (serves N)',
  'event-loop': 'one thread, readiness notification, non-blocking I/O (unbounded)',
  'fork-per-connection': 'a child process per connection, reaped by a SIGCHLD + waitpid loop (unbounded)',
  'master-worker': 'a master plus one event-loop worker per core; dead workers replaced (unbounded)',
  'thread-per-connection': 'a new thread per connection (unbounded)',
};

export function isModel(name: string): name is ModelName {
  return (MODELS as readonly string[]).includes(name);
}

/** The limit a model promises, given its declared pool size. */
export function limitOf(model: ModelName, workers?: number): Limit {
  switch (model) {
    case 'single-process':
      return 1;
    case 'prefork':
    case 'thread-pool':
      return workers ?? DEFAULT_POOL_SIZE;
    default:
      return 'unbounded';
  }
}

/** Models whose workers are processes that must be replaced when they die. */
export function hasProcessPool(model: ModelName): boolean {
  return model === 'prefork' || model === 'master-worker';
}

/** Light: a session's process is a fork() of the server; heavy: a whole interpreter started per session. */
export type CrowdWeight = 'heavy' | 'light';

/**
 * A crowd of sessions against this target starts a process each, and each a whole interpreter (unless
 * weighed light): it loads the machine in bursts, so cases that bring a crowd run with the machine to
 * themselves. A thread per connection, or a bare fork(), costs too little to matter.
 */
export function crowdsAreHeavy(target: { model: ModelName; crowdWeight?: CrowdWeight }): boolean {
  return target.model === 'fork-per-connection' && target.crowdWeight !== 'light';
}
