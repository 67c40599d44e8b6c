// One line of progress at the bottom of a terminal, rewritten in place ("\r" and erase-line), with
// whole lines printed above it. Only where stderr is a terminal: logs and pipes get no progress.
export class StatusLine {
  private open = false;

  private constructor(private readonly stream: NodeJS.WriteStream) {}

  /** A status line on stderr, or undefined where stderr is not a terminal. */
  static forStderr(): StatusLine | undefined {
    return process.stderr.isTTY ? new StatusLine(process.stderr) : undefined;
  }

  /** Replaces the status line. */
  show(text: string): void {
    this.stream.write(`\r\x1b[K${text}`);
    this.open = true;
  }

  /** A line that stays, printed in place of the status line. */
  log(line: string): void {
    this.stream.write(`\r\x1b[K${line}\n`);
    this.open = false;
  }

  /** Someone else ended the line (the signal handler's message starts with a newline). */
  endedElsewhere(): void {
    this.open = false;
  }

  /** Ends the status line, so that what is printed next starts on a line of its own. */
  end(): void {
    if (this.open) this.stream.write("\n");
    this.open = false;
  }
}
