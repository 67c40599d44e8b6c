// The commander program: one subcommand per file, every parse error routed to handle-error.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { probeCommand } from "./probe.js";

function packageVersion(): string {
  // src/cli and dist/cli both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Throws CommanderError instead of exiting, and leaves printing the error to handle-error. */
function quiet(command: Command): Command {
  command.exitOverride().configureOutput({ outputError: () => {} });
  for (const sub of command.commands) quiet(sub);
  return command;
}

export function buildProgram(): Command {
  const program = new Command("emp")
    .description("energy measurement pipeline: RAPL, perf, NVML and temperatures sampled by a native thread")
    .version(packageVersion())
    .addCommand(probeCommand());
  return quiet(program);
}
