// Typed errors: every failure a user can act on carries a code, the context, and a fix.
// The native addon raises Errors with the same codes (native/errors.cc); fromNative maps them.

/** The codes the addon raises (native/errors.h; test/contracts.test.ts keeps the two lists equal). */
export const NATIVE_ERROR_CODES = [
  "E_ABSENT",
  "E_PERMISSION",
  "E_UNSUPPORTED",
  "E_IO",
  "E_INVALID_ARGUMENT",
  "E_STATE",
  "E_SPAWN",
  "E_INTERNAL",
] as const;

export type EmpErrorCode =
  | (typeof NATIVE_ERROR_CODES)[number]
  | "E_ADDON"
  | "E_USAGE"
  | "E_OUT_OF_SPAN"
  | "E_GIT";

export interface EmpErrorDetails {
  suggestion?: string;
  path?: string;
  errno?: number;
  cause?: unknown;
}

export class EmpError extends Error {
  readonly code: EmpErrorCode;
  readonly suggestion?: string;
  readonly path?: string;
  readonly errno?: number;
  /** Exit code the CLI uses for this error: 2 for the user's mistakes, 1 for failures. */
  readonly exitCode: number = 1;

  constructor(code: EmpErrorCode, message: string, details: EmpErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.suggestion = details.suggestion;
    this.path = details.path;
    this.errno = details.errno;
  }
}

/** The sensor or interface does not exist here. */
export class SensorAbsentError extends EmpError {}
/** The sensor exists but this process may not read it. */
export class PermissionError extends EmpError {}
/** The sensor exists but cannot do what was asked (no hardware counters, old GPU). */
export class UnsupportedError extends EmpError {}
/** The measured command could not be started. */
export class SpawnError extends EmpError {}
/** A fault inside emp: the addon caught a C++ exception no check anticipated, instead of aborting. */
export class InternalError extends EmpError {}
/** The native addon is missing or was built for another Node. */
export class AddonError extends EmpError {}
/** Energy was asked for at a time the samples do not cover (before the first or after the last reading). */
export class OutOfSpanError extends EmpError {
  constructor(message: string, details: EmpErrorDetails = {}) {
    super("E_OUT_OF_SPAN", message, details);
  }
}
/** A mistake in the command line, options or configuration: exit code 2. */
export class UsageError extends EmpError {
  override readonly exitCode = 2;
  constructor(message: string, details: EmpErrorDetails = {}) {
    super("E_USAGE", message, details);
  }
}
/**
 * Results could not be written: the disk is full, over quota, read-only or failing. The message
 * names the file and its disk; the fix says what to free or where else to write.
 */
export class WriteError extends EmpError {
  /** The errno name: ENOSPC, EDQUOT, EROFS, EIO, EFBIG, EACCES or EPERM. */
  readonly reason: string;
  /** What to do on the disk itself ("free space on /tmp/full"), before `elsewhere`. */
  readonly diskFix: string;

  constructor(
    message: string,
    reason: string,
    diskFix: string,
    /** Where else the output can go, as the command that writes it takes it ("another --out"). */
    elsewhere: string,
    details: Omit<EmpErrorDetails, "suggestion"> = {},
  ) {
    super("E_IO", message, { ...details, suggestion: `${diskFix}, or ${elsewhere}` });
    this.reason = reason;
    this.diskFix = diskFix;
  }

  /** The same failure with the fix of another command's output ("write the plot elsewhere: -o FILE"). */
  elsewhere(elsewhere: string): WriteError {
    return new WriteError(this.message, this.reason, this.diskFix, elsewhere, {
      path: this.path,
      errno: this.errno,
      cause: this.cause,
    });
  }
}
/** A git command failed: the command line and git's own message, so the user can run it again by hand. */
export class GitError extends EmpError {
  /** The command as a person would type it. */
  readonly command: string;
  readonly stderr: string;
  /** git's exit status; null when it was killed by a signal or never started. */
  readonly status: number | null;

  constructor(
    message: string,
    command: string,
    result: { stderr?: string; status?: number | null } = {},
    details: EmpErrorDetails = {},
  ) {
    super("E_GIT", message, details);
    this.command = command;
    this.stderr = result.stderr ?? "";
    this.status = result.status ?? null;
  }
}
/**
 * A failure a stage or an unmeasured command (util/shell.ts) expects and explains (a build that
 * exits non-zero): the session records it and goes on (a prepare stage's commit is skipped); any
 * other error fails the stage the same way, but its message is what the error said.
 */
export class StageFailure extends Error {
  constructor(
    message: string,
    readonly logPath?: string,
  ) {
    super(message);
    this.name = "StageFailure";
  }
}
/** The caller passed options the addon rejects: a usage error too. */
export class InvalidArgumentError extends EmpError {
  override readonly exitCode = 2;
}

interface NativeErrorShape {
  message: string;
  code?: string;
  errno?: number;
  path?: string;
  suggestion?: string;
}

const byCode: Record<
  string,
  new (
    code: EmpErrorCode,
    message: string,
    details?: EmpErrorDetails,
  ) => EmpError
> = {
  E_ABSENT: SensorAbsentError,
  E_PERMISSION: PermissionError,
  E_UNSUPPORTED: UnsupportedError,
  E_SPAWN: SpawnError,
  E_INTERNAL: InternalError,
  E_INVALID_ARGUMENT: InvalidArgumentError,
};

/** Turns an Error thrown by the addon into the matching typed error; anything else passes through. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof EmpError) return error;
  const shape = error as Error & NativeErrorShape;
  if (typeof shape.code !== "string" || !shape.code.startsWith("E_")) return error;
  const Ctor = byCode[shape.code] ?? EmpError;
  return new Ctor(shape.code as EmpErrorCode, shape.message, {
    errno: shape.errno,
    path: shape.path,
    suggestion: shape.suggestion,
    cause: error,
  });
}

/** Runs a native call and rethrows its errors typed. */
export function native<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromNative(error);
  }
}
