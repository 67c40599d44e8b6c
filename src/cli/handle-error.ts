// The one place where an error becomes what the user sees and the process's exit code:
// `emp: <message>` and `  fix: <suggestion>`, 2 for usage mistakes, 1 for failures.
import { CommanderError } from "commander";
import { EmpError, fromNative } from "../errors.js";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface ErrorOutput {
  write(text: string): unknown;
}

function debugging(): boolean {
  return process.env.EMP_DEBUG === "1";
}

/** Prints the error for a person and returns the exit code to set. */
export function handleError(error: unknown, stderr: ErrorOutput = process.stderr): number {
  if (error instanceof CommanderError) {
    // --help and --version end through here with code 0; help after a missing command already printed.
    if (error.exitCode === 0) return 0;
    if (error.code === "commander.help" || error.code === "commander.helpDisplayed") return EXIT_USAGE;
    const message = error.message.replace(/^error: /, "");
    const command = (error as CommanderError & { commandPath?: string }).commandPath ?? "emp";
    stderr.write(`emp: ${message} (see \`${command} --help\`)\n`);
    return EXIT_USAGE;
  }
  const typed = fromNative(error);
  if (typed instanceof EmpError) {
    stderr.write(`emp: ${typed.message}\n`);
    if (typed.suggestion) stderr.write(`  fix: ${typed.suggestion}\n`);
    if (debugging() && typed.stack) stderr.write(`${typed.stack}\n`);
    return typed.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`emp: unexpected error: ${message}\n`);
  if (debugging() && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  else stderr.write("  (set EMP_DEBUG=1 to see where it happened)\n");
  return EXIT_FAILURE;
}
