// The commander program: one subcommand per file, every parse error routed to handle-error.
import { readFileSync } from "node:fs";
import { Command, type CommanderError } from "commander";
import { compareCommand } from "./compare.js";
import { historyCommand } from "./history.js";
import { initCommand } from "./init.js";
import { measureCommand } from "./measure.js";
import { plotCommand } from "./plot.js";
import { probeCommand } from "./probe.js";
import { reportCommand } from "./report.js";
import { resumeCommand } from "./resume.js";
import { runCommand } from "./run.js";
import { joinMultiWordOptions } from "./session-options.js";

function packageVersion(): string {
  // src/cli and dist/cli both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** A commander error tagged with the command it came from, so the hint names the right --help. */
export type TaggedCommanderError = CommanderError & { commandPath?: string };

/** Throws CommanderError instead of exiting, and leaves printing the error to handle-error. */
function quiet(command: Command, path: string): Command {
  command
    .exitOverride((error: TaggedCommanderError) => {
      error.commandPath = path;
      throw error;
    })
    .configureOutput({ outputError: () => {} });
  for (const sub of command.commands) quiet(sub, `${path} ${sub.name()}`);
  return command;
}

/**
 * The arguments as commander is to read them: the options of several words of emp measure and emp
 * compare (--work N UNIT, --parameter-scan NAME LO HI) joined into one each.
 */
export function programArgs(argv: readonly string[]): string[] {
  const at = argv.findIndex((arg, i) => i >= 2 && !arg.startsWith("-"));
  if (at < 0 || (argv[at] !== "compare" && argv[at] !== "measure")) return [...argv];
  return [...argv.slice(0, at + 1), ...joinMultiWordOptions(argv.slice(at + 1))];
}

export function buildProgram(): Command {
  const program = new Command("emp")
    .description("energy measurement pipeline: RAPL, perf, NVML and temperatures sampled by a native thread")
    .version(packageVersion())
    .enablePositionalOptions()
    .addCommand(probeCommand())
    .addCommand(measureCommand())
    .addCommand(compareCommand())
    .addCommand(runCommand())
    .addCommand(resumeCommand())
    .addCommand(initCommand())
    .addCommand(historyCommand())
    .addCommand(reportCommand())
    .addCommand(plotCommand());
  return quiet(program, "emp");
}
