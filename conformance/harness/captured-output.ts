import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of a target's output the kit keeps: enough for a ready line and the last lines of an error. */
const KEPT_BYTES = 65536;
/** A file longer than this is cut back to nothing (its last KEPT_BYTES are kept in memory first). */
const CUT_AT_BYTES = 1024 * 1024;
const CUT_EVERY_MS = 500;

let files = 0;
const prefix = (kitPid: number): string => `server-models-output-${kitPid}-`;

/** Removes the output files of a kit process that died without stopping its targets (the watchdog's work). */
export function removeOutputFiles(kitPid: number): void {
  for (const name of readdirSync(tmpdir())) if (name.startsWith(prefix(kitPid))) rmSync(join(tmpdir(), name), { force: true });
}

/**
 * A started target's stdout or stderr, written to a file instead of a pipe. A file never makes the
 * server wait, as a log file or journald would not; a pipe fills whenever the kit is busy and then
 * blocks a server that writes a lot (one that logs every failed accept() and retries at once looked
 * idle, not spinning). The kit reads the file's end when it needs it, and cuts the file back when it
 * grows, so a chatty server fills no disk.
 */
export class CapturedOutput {
  /** the kit's descriptor of the file; the target gets its own copy as its stdout or stderr */
  readonly fd: number;
  private readonly path: string;
  private earlier = '';
  private closed = false;
  private readonly cutter: NodeJS.Timeout;

  constructor(name: string) {
    this.path = join(tmpdir(), `${prefix(process.pid)}${files++}.${name}`);
    // O_APPEND: the target's writes go to the end, also after a cut.
    this.fd = openSync(this.path, 'a+');
    this.cutter = setInterval(() => this.cutBack(), CUT_EVERY_MS);
    this.cutter.unref();
  }

  /** The last 64 KiB written. */
  text(): string {
    if (this.closed) return this.earlier; // the target is gone, and so is its file (its descriptor may be another's now)
    const size = fstatSync(this.fd).size;
    const length = Math.min(size, KEPT_BYTES);
    const buf = Buffer.alloc(length);
    const read = readSync(this.fd, buf, 0, length, size - length);
    return (this.earlier + buf.subarray(0, read).toString('utf8')).slice(-KEPT_BYTES);
  }

  private cutBack(): void {
    if (this.closed || fstatSync(this.fd).size <= CUT_AT_BYTES) return;
    this.earlier = this.text();
    ftruncateSync(this.fd, 0); // what the target writes between the read and the cut is lost: only from a flood of output
  }

  /** Keeps what was written, closes and removes the file. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.cutter);
    this.earlier = this.text();
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}
