// IPC messages from the master-worker primary to its workers.
export type PrimaryToWorker = { cmd: 'drain' };
