// The commander program: one subcommand per file, every parse error routed to handle-error.
import { readFileSync } from "node:fs";
import { Command, type CommanderError, Help } from "commander";
import { COMMANDS } from "./commands.js";
import { joinMultiWordOptions } from "./multi-word.js";

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

/** The command a command line runs: its first word that is not an option (`emp help X`: X). */
function commandOf(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((arg) => !arg.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * The program for `argv`: the command it runs defined in full (its module loaded), every other one
 * only by its name, usage and summary, which is all `emp --help` lists. So `emp --help` loads no
 * command's module, and a command loads only its own.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command("emp")
    .description("energy measurement pipeline: RAPL, perf, NVML and temperatures sampled by a native thread")
    .version(packageVersion())
    .enablePositionalOptions();
  const chosen = commandOf(argv);
  const usage = new Map(COMMANDS.map((c) => [c.name, c.usage]));
  for (const entry of COMMANDS) {
    if (entry.name === chosen) program.addCommand(await entry.load());
    else program.command(entry.name).description(entry.summary);
  }
  // The list shows each command's arguments, as its own definition would.
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => {
      const args = usage.get(cmd.name());
      return args === undefined ? help.subcommandTerm(cmd) : `${cmd.name()} ${args}`;
    },
  });
  return quiet(program, "emp");
}
