// IPC messages between the master-worker primary and its workers.

/** Primary → worker. 'connection' comes with the accepted client socket attached. */
export type PrimaryToWorker = { cmd: 'connection' } | { cmd: 'drain' };

/** Worker → primary: listening for connections on the IPC channel now. */
export type WorkerToPrimary = { cmd: 'ready' };
