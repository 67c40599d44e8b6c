// Ctrl-C, SIGTERM and SIGHUP end a session alike: the run in progress is ended (its whole process
// tree), the runs done are kept, the state reads `interrupted`, and the exit code names the signal
// (130, 143, 129). A second signal ends the process at once; the session's `exit` listeners still
// run, so its files are left closed and readable.
import { constants } from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type HandledSignal = (typeof SIGNALS)[number];

export class Interrupts {
  private readonly controller = new AbortController();
  private received: HandledSignal | undefined;
  private readonly handler = (signal: HandledSignal) => this.receive(signal);

  constructor() {
    for (const signal of SIGNALS) process.on(signal, this.handler);
  }

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** 128 + the number of the signal received (130 for Ctrl-C), or undefined when none came. */
  get exitCode(): number | undefined {
    return this.received === undefined ? undefined : exitCodeOf(this.received);
  }

  /** Stops listening; the default actions of the signals apply again. */
  dispose(): void {
    for (const signal of SIGNALS) process.off(signal, this.handler);
  }

  private receive(signal: HandledSignal): void {
    if (this.received === undefined) {
      this.received = signal;
      process.stderr.write(`\nemp: ${signal} received: ending the run in progress (again to stop at once)\n`);
      this.controller.abort();
      return;
    }
    // The second: no waiting for the run's tree to end. Exit listeners close the session's files;
    // the addon's exit handler kills what is left of the tree.
    process.exit(exitCodeOf(this.received));
  }
}

function exitCodeOf(signal: HandledSignal): number {
  return 128 + constants.signals[signal];
}
