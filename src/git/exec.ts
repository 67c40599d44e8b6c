// Runs git as a child process (execFile, never a shell, so refs and paths are never interpreted) and
// turns its failures into GitError carrying the command line and git's own message. Every git that
// emp runs goes through here, so every one gets the same environment (gitEnvironment).
import { execFile, execFileSync } from "node:child_process";
import { GitError } from "../errors.js";

export interface GitOptions {
  /** Written to git's standard input (revisions for `--stdin`, object names for `cat-file`). */
  input?: string;
  /** Exit codes that answer a question rather than report a failure (`diff --quiet`: 1 = differs). */
  okExitCodes?: readonly number[];
  cwd?: string;
  signal?: AbortSignal;
  /** Kills git after this long; network fetches have no limit unless the caller sets one. */
  timeoutS?: number;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Variables that point git at a particular repository, index or object store. git sets them for
 * hooks and aliases; if emp is started from one, they would redirect every command to that repository.
 */
const REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];

/** rev-list over a large history prints tens of megabytes; execFile's 1 MiB default would cut it. */
const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;
/** Enough of git's message to say what went wrong without flooding the terminal. */
const MAX_MESSAGE_CHARS = 2000;

/** The environment every git command runs with. */
export function gitEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  // Read-only commands (status, diff) otherwise refresh the index of the repository they read:
  // emp reads the user's repository and must never write to it.
  env.GIT_OPTIONAL_LOCKS = "0";
  // A credential prompt would hang a run that captures git's output; fail with git's message
  // instead (a credential helper or SSH key still works). A user who wants prompts can set it to 1.
  env.GIT_TERMINAL_PROMPT ??= "0";
  return env;
}

/** The command line as a person would type it, for error messages. */
export function renderCommand(args: readonly string[]): string {
  const quoted = args.map((arg) =>
    /^[\w@%+=:,./^~-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`,
  );
  return ["git", ...quoted].join(" ");
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_MESSAGE_CHARS ? trimmed : `...${trimmed.slice(-MAX_MESSAGE_CHARS)}`;
}

/** An exit code in `okExitCodes` as a result, any other failure as the GitError that says why. */
function outcome(
  error: Error,
  stdout: string,
  stderr: string,
  command: string,
  options: GitOptions,
): GitResult | GitError {
  const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
  if (code === "ENOENT" && (error as NodeJS.ErrnoException).syscall?.startsWith("spawn")) {
    return new GitError(
      "git is not installed or not on PATH",
      command,
      {},
      {
        suggestion: "install git (for example `apt install git`) and check that `git --version` runs",
        cause: error,
      },
    );
  }
  // execFile reports the exit status as `code`, execFileSync as `status`.
  const status = typeof code === "number" ? code : ((error as { status?: number | null }).status ?? null);
  if (status !== null && options.okExitCodes?.includes(status)) return { stdout, stderr, exitCode: status };
  const signal = (error as { signal?: NodeJS.Signals | null }).signal;
  const why =
    code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER" || code === "ENOBUFS"
      ? `its output passed ${MAX_OUTPUT_BYTES} bytes`
      : signal
        ? `killed by ${signal}${options.timeoutS === undefined ? "" : ` (limit ${options.timeoutS} s)`}`
        : clip(stderr) || error.message;
  return new GitError(`${command} failed: ${why}`, command, { stderr, status }, { cause: error });
}

function timeoutMs(options: GitOptions): number {
  return options.timeoutS === undefined ? 0 : Math.ceil(options.timeoutS * 1000);
}

/** Runs `git ...args`; resolves with its output when the exit code is 0 or one of `okExitCodes`. */
export function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const command = renderCommand(args);
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd: options.cwd,
        env: gitEnvironment(),
        encoding: "utf8",
        maxBuffer: MAX_OUTPUT_BYTES,
        signal: options.signal,
        timeout: timeoutMs(options),
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr, exitCode: 0 });
          return;
        }
        const result = outcome(error, stdout, stderr, command, options);
        if (result instanceof GitError) reject(result);
        else resolve(result);
      },
    );
    // Always close stdin: a git that reads it (--stdin, cat-file --batch) must see the end.
    child.stdin?.on("error", () => {
      // git exited before reading all input; its exit status reports what went wrong
    });
    child.stdin?.end(options.input ?? "");
  });
}

/**
 * runGit for the few callers that cannot wait (provenance gathered while a recorder starts, the
 * report's history order): the same environment and errors, blocking until git exits.
 */
export function runGitSync(args: readonly string[], options: Omit<GitOptions, "signal"> = {}): GitResult {
  const command = renderCommand(args);
  try {
    const stdout = execFileSync("git", args, {
      cwd: options.cwd,
      env: gitEnvironment(),
      encoding: "utf8",
      maxBuffer: MAX_OUTPUT_BYTES,
      timeout: timeoutMs(options),
      input: options.input ?? "",
      // Piped, not inherited: git's message belongs in the GitError, not on emp's terminal.
      stdio: ["pipe", "pipe", "pipe"],
    });
    return { stdout, stderr: "", exitCode: 0 };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string | null; stderr?: string | null };
    const result = outcome(error as Error, stdout ?? "", stderr ?? "", command, options);
    if (result instanceof GitError) throw result;
    return result;
  }
}

/** Runs `git ...args` and returns its standard output. */
export async function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  return (await runGit(args, options)).stdout;
}

/** Runs `git ...args` synchronously and returns its standard output. */
export function gitSync(args: readonly string[], options: Omit<GitOptions, "signal"> = {}): string {
  return runGitSync(args, options).stdout;
}

/** The oldest git that has every command used here: `worktree move` (2.17), protocol v2 fetch by id (2.18). */
export const MIN_GIT_VERSION: readonly [number, number] = [2, 18];

/** Major and minor from `git --version` ("git version 2.39.5", "git version 2.45.1.windows.1"). */
export function parseGitVersion(text: string): [number, number] | undefined {
  const match = /git version (\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

let versionChecked: Promise<void> | undefined;

/** Checks once per process that git runs and is new enough; a failed check is tried again next time. */
export function requireGit(): Promise<void> {
  versionChecked ??= git(["--version"]).then(
    (output) => {
      const version = parseGitVersion(output);
      const [major, minor] = MIN_GIT_VERSION;
      if (version && (version[0] < major || (version[0] === major && version[1] < minor))) {
        throw new GitError(
          `git ${version.join(".")} is too old: emp needs ${major}.${minor} or newer`,
          "git --version",
          {},
          {
            suggestion: "install a newer git (your distribution's backports, or git-scm.com)",
          },
        );
      }
    },
    (error: unknown) => {
      versionChecked = undefined;
      throw error;
    },
  );
  return versionChecked;
}

/** Standard output split into lines, without the empty one after the last newline. */
export function lines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => line.length > 0);
}

/**
 * Runs tasks one at a time. Commands that write to one repository (fetch, worktree add, prune)
 * go through one queue, so parallel preparation of commits never races on its refs or worktree list.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
