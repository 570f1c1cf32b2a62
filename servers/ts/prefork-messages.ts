// IPC messages between the prefork parent and its workers.

/** Parent → worker. 'listen' comes with the shared listening handle attached. */
export type ParentToWorker = { cmd: 'listen' } | { cmd: 'drain' };

/** Worker → parent. */
export type WorkerToParent =
  /** Idle and ready to accept one connection: please send the listening handle. */
  | { cmd: 'want-listen-socket' }
  /** Polling the shared socket now. */
  | { cmd: 'listening' };
