import { readSync } from 'node:fs';
import { ssRows } from './listen-backlog';
import { hasProcfs, readTcpTable, TcpRow } from './procfs';

/** How a connection ended, from the kernel's view of our own socket. */
export type CloseKind = 'fin' | 'rst' | 'open';

/** Decides how the server ended our connection (localPort → remotePort) once its end of stream arrived. */
export type CloseClassifier = (localPort: number, remotePort: number) => CloseKind | Promise<CloseKind>;

/**
 * Decides whether the peer sent FIN or RST once Node reports the end of the stream.
 * Node's 'end' alone proves nothing (libuv synthesises EOF from EPOLLHUP when an RST arrives with
 * data), so look the socket up in /proc/self/net/tcp{,6}: CLOSE_WAIT means the peer's FIN arrived and
 * we have not closed; no row means the kernel dropped the socket after an RST.
 */
export function classifyClose(localPort: number, remotePort: number, rows: TcpRow[] = readTcpTable('self')): CloseKind {
  const row = rows.find((r) => r.localPort === localPort && r.remotePort === remotePort);
  if (!row) return 'rst';
  if (row.state === 'CLOSE_WAIT' || row.state === 'LAST_ACK' || row.state === 'TIME_WAIT' || row.state === 'CLOSING') {
    return 'fin';
  }
  return 'open';
}

/** How many times a missing row is looked for again before it counts as an RST. */
export const MISSING_ROW_REREADS = 3;

/**
 * The state of one connection as sock_diag reports it (`ss` with a port filter: a dump filtered in the
 * kernel, small enough to come in one piece, so it does not skip sockets the way paged reads of
 * /proc/net/tcp can). Undefined where ss is missing or fails.
 */
export function closeKindViaSockDiag(localPort: number, remotePort: number): CloseKind | undefined {
  const rows = ssRows('tan', `sport = :${localPort} and dport = :${remotePort}`);
  if (rows === undefined) return undefined;
  const state = rows[0]?.[0];
  if (state === undefined) return 'rst';
  return ['CLOSE-WAIT', 'LAST-ACK', 'TIME-WAIT', 'CLOSING'].includes(state) ? 'fin' : 'open';
}

/**
 * classifyClose on a fresh read of the table, looking again when our row is missing. The kernel prints
 * /proc/net/tcp a page at a time and resumes by position, so a socket that moves within the table
 * between two pages (FIN_WAIT2 becoming TIME_WAIT, or rows of other sockets coming and going) can be
 * left out of one read; with thousands of sockets coming and going it was left out of four in a row
 * (a FIN read as an RST). A row missing from every read is asked of sock_diag, where ss is installed.
 */
export function classifyCloseRereading(
  localPort: number,
  remotePort: number,
  readRows: () => TcpRow[] = () => readTcpTable('self'),
  rereads = MISSING_ROW_REREADS,
  askKernel: (localPort: number, remotePort: number) => CloseKind | undefined = closeKindViaSockDiag,
): CloseKind {
  let kind = classifyClose(localPort, remotePort, readRows());
  for (let i = 0; kind === 'rst' && i < rereads; i++) kind = classifyClose(localPort, remotePort, readRows());
  return kind === 'rst' ? askKernel(localPort, remotePort) ?? 'rst' : kind;
}

/** How long ends are collected before the TCP table is read once for all of them. */
const CLASSIFY_WINDOW_MS = 50;

/**
 * FIN or RST, decided like classifyCloseRereading (our socket's state in /proc/self/net/tcp, which
 * stays in CLOSE_WAIT until we close), but with one read of the table for all the ends seen within
 * `windowMs`. A read costs milliseconds per thousand sockets on the machine and blocks the event loop,
 * so other clients' acks arriving meanwhile would be dated late; the ends of many sessions ending
 * together (the client command's --goodbye) come right after the last acks.
 */
export function batchedCloseClassifier(windowMs = CLASSIFY_WINDOW_MS): CloseClassifier {
  let pending: { localPort: number; remotePort: number; resolve: (kind: CloseKind) => void }[] = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    const rows = readTcpTable('self');
    for (const p of batch) {
      const kind = classifyClose(p.localPort, p.remotePort, rows);
      // a row missing from one read may only have been skipped: look again before calling it an RST
      // (the batch's read was the first look, so as many reads in all as classifyCloseRereading makes)
      p.resolve(kind === 'rst' ? classifyCloseRereading(p.localPort, p.remotePort, undefined, MISSING_ROW_REREADS - 1) : kind);
    }
  };
  return (localPort, remotePort) =>
    new Promise((resolve) => {
      // without /proc there is nothing to look at: take the end of stream for the FIN it usually is
      if (!hasProcfs()) return resolve('fin');
      if (pending.length === 0) setTimeout(flush, windowMs);
      pending.push({ localPort, remotePort, resolve });
    });
}

/**
 * How the server ended a Unix-domain stream, read from our own socket `fd` once its end of stream has
 * been reported: a read returning 0 (end of file) is its orderly close, what a FIN is over TCP;
 * ECONNRESET (the server closed with bytes of ours unread) is what an RST is; a socket that would
 * block is still open. The read is made here because libuv reports an end of stream without it when
 * the hang-up comes with data (EPOLLHUP after a short read), leaving ECONNRESET for the next read.
 */
export function classifyUnixEnd(fd: number, read: (fd: number) => number = (d) => readSync(d, Buffer.alloc(1), 0, 1, null)): CloseKind {
  try {
    return read(fd) === 0 ? 'fin' : 'open';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ECONNRESET' || code === 'EPIPE' ? 'rst' : 'open';
  }
}
