// `emp measure`'s progress for a person, on a terminal's last line: the baseline (and cooldown)
// counting down, the run in progress with its elapsed time (and, when it blocks reading a stdin
// that is not a terminal, saying so), and after each run its time, exit and the time left, which
// counts runs only: the baseline is over by then.
import { isatty } from "node:tty";
import type { ProgressEvent } from "../measure/session.js";
import { waitingOnStdin } from "../util/process.js";
import { formatDurationS } from "../util/table.js";
import type { StatusLine } from "./status-line.js";

/** How often the line is redrawn while a phase or a run lasts. */
const REDRAW_MS = 250;
/** A run blocked this long in a read of its stdin is said to be waiting on it. */
const STDIN_WAIT_MS = 1000;

export class MeasureProgress {
  private timer: NodeJS.Timeout | undefined;
  private firstRunMs: number | undefined;
  private runsDone = 0;
  private eta = "";
  /** Runs started so far of each kind, and the name of the one in progress. */
  private readonly started = { calibration: 0, warmup: 0, run: 0 };
  private current = "";

  constructor(
    private readonly line: StatusLine,
    private readonly warmups: number,
    private readonly runs: number,
    /** Name each run's command (emp compare, where a session runs several). */
    private readonly showCommand = false,
  ) {}

  readonly onProgress = (event: ProgressEvent): void => {
    this.stopTimer();
    if (event.kind === "phase" && event.phase === "calibration") {
      this.line.show("calibration: finding how many iterations make a run last --min-run-ms");
    } else if (event.kind === "phase") {
      const endMs = Date.now() + event.seconds * 1000;
      this.redraw(() => `${event.phase}: ${Math.max(0, (endMs - Date.now()) / 1000).toFixed(1)} s left`);
    } else if (event.kind === "run-start") {
      this.firstRunMs ??= Date.now();
      const name = this.name(event);
      this.current = name;
      const startMs = Date.now();
      this.redraw(() => {
        const elapsedMs = Date.now() - startMs;
        const waiting =
          elapsedMs >= STDIN_WAIT_MS && !isatty(0) && waitingOnStdin(event.pid)
            ? "  waiting on standard input (emp's stdin is passed to the command: give it input, or </dev/null)"
            : "";
        return `${name}  ${(elapsedMs / 1000).toFixed(1)} s${this.eta}${waiting}`;
      });
    } else {
      this.runsDone = event.index + 1;
      const left = event.total - this.runsDone;
      const perRunMs = (Date.now() - (this.firstRunMs ?? Date.now())) / this.runsDone;
      this.eta = left > 0 ? `  ETA ${formatDurationS((perRunMs * left) / 1000)}` : "";
      const exit = event.exitCode === null ? "signal" : `exit ${event.exitCode}`;
      this.line.show(`${this.current}  ${event.durationS.toFixed(3)} s  ${exit}${this.eta}`);
    }
  };

  /** Stops redrawing and ends the line: what follows starts on a line of its own. */
  end(): void {
    this.stopTimer();
    this.line.end();
  }

  /** After a signal: no more redraws; its message already moved to a new line. */
  interrupted(): void {
    this.stopTimer();
    this.line.endedElsewhere();
  }

  /** "calibration 2", "warmup 1/2", "run 3/10": each kind counted from 1; with its command's name in a comparison. */
  private name(event: { warmup: boolean; calibration: boolean; command: string }): string {
    const kind = event.calibration ? "calibration" : event.warmup ? "warmup" : "run";
    const n = ++this.started[kind];
    const of = kind === "calibration" ? "" : `/${kind === "warmup" ? this.warmups : this.runs}`;
    return `${kind} ${n}${of}${this.showCommand ? `  ${event.command}` : ""}`;
  }

  private redraw(text: () => string): void {
    this.line.show(text());
    this.timer = setInterval(() => this.line.show(text()), REDRAW_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
