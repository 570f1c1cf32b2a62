/**
 * A transient status line on a terminal ("12/34 resources.idle-cpu …") that the next real output
 * line replaces; on a pipe or file it writes nothing, so logs hold only the result lines.
 */
export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  private get live(): boolean {
    return this.stream.isTTY === true && process.env.TERM !== 'dumb';
  }

  /** Shows `text` in place of the previous status. */
  show(text: string): void {
    if (!this.live) return;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r\x1b[K${text.slice(0, width)}`);
    this.shown = true;
  }

  /** Writes a line of real output, first erasing the status. */
  print(line: string): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
    this.stream.write(`${line}\n`);
  }
}
