// Unmeasured commands (a study's build, setup and post_command, emp measure's --prepare and
// --setup): `sh -c` in a given folder, output appended to a log file, in a process group of its own
// so that a timeout or Ctrl-C ends the whole build (make's children included), not just the shell.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { StageFailure } from "../errors.js";

export interface ShellOptions {
  cwd: string;
  /** Added to emp's environment. */
  env: Record<string, string>;
  /** Appended to; created when absent. */
  logPath: string;
  timeoutS?: number;
  signal?: AbortSignal;
  /** Names the step in messages ("build", "setup"). */
  step: string;
}

/** After SIGTERM, how long a process group gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** Runs `command`; resolves when it exits 0, throws StageFailure otherwise. The failure carries the
 * log's path apart from its message, so that each place that shows both names the log once. */
export async function runShell(command: string, options: ShellOptions): Promise<void> {
  const log = openSync(options.logPath, "a");
  try {
    writeSync(log, `$ ${command}\n`);
    const child = spawn("sh", ["-c", command], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", log, log],
      detached: true,
    });
    let why: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: string) => {
      why ??= reason;
      killGroup(child.pid, "SIGTERM");
      killTimer ??= setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
    };
    const onAbort = () => stop("interrupted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      options.timeoutS === undefined
        ? undefined
        : setTimeout(() => stop(`timed out after ${options.timeoutS} s`), options.timeoutS * 1000);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once("error", (error) => resolve({ code: null, signal: null, error }));
        child.once("exit", (code, signal) => resolve({ code, signal }));
      },
    );
    clearTimeout(timer);
    clearTimeout(killTimer);
    options.signal?.removeEventListener("abort", onAbort);
    // A build's background children must not outlive it either.
    killGroup(child.pid, "SIGKILL");
    if (exit.error)
      throw new StageFailure(`${options.step} could not start: ${exit.error.message}`, options.logPath);
    if (why !== undefined) throw new StageFailure(`${options.step} ${why}`, options.logPath);
    if (exit.code !== 0) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
      throw new StageFailure(`${options.step} ${how}`, options.logPath);
    }
  } finally {
    closeSync(log);
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
