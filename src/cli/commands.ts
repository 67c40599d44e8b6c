// emp's commands as `emp --help` lists them: name, usage and summary, and where each is defined.
// Light on purpose: `emp --help` and `emp --version` load this and commander only; a command's own
// module (with zod, Arrow, SQLite, Vega or the addon behind it) is loaded when it is the one run.
import type { Command } from "commander";

export interface CommandEntry {
  name: string;
  /** What follows the name in the list: its arguments. */
  usage: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "probe",
    usage: "[options]",
    summary: "list every sensor with its status, the reason and the fix, and the host's facts",
    load: async () => (await import("./probe.js")).probeCommand(),
  },
  {
    name: "measure",
    usage: "[options] [command...]",
    summary: "measure the energy of COMMAND over repeated runs, idle baseline subtracted",
    load: async () => (await import("./measure.js")).measureCommand(),
  },
  {
    name: "compare",
    usage: "[options] [commands...]",
    summary:
      "measure several shell commands in one session, runs interleaved, and compare each with the reference",
    load: async () => (await import("./compare.js")).compareCommand(),
  },
  {
    name: "run",
    usage: "[options] <config>",
    summary: "measure the energy of a project's commits as a study config describes",
    load: async () => (await import("./run.js")).runCommand(),
  },
  {
    name: "resume",
    usage: "[options] <dir>",
    summary: "continue an interrupted or failed `emp run` session: only the runs and builds not done",
    load: async () => (await import("./resume.js")).resumeCommand(),
  },
  {
    name: "compare-commits",
    usage: "[options] <base> <head>",
    summary:
      "gate a pull request: measure BASE and HEAD interleaved, exit 3 if HEAD costs significantly more",
    load: async () => (await import("./compare-commits.js")).compareCommitsCommand(),
  },
  {
    name: "find",
    usage: "[options] <config>",
    summary: "find the commit between --good and --bad that changed the energy (or time), by bisection",
    load: async () => (await import("./find.js")).findCommand(),
  },
  {
    name: "merge",
    usage: "[options] <dirs...>",
    summary: "one study directory from several `emp run` directories (the shards of --shard K/N)",
    load: async () => (await import("./merge.js")).mergeCommand(),
  },
  {
    name: "slurm",
    usage: "[options] <config>",
    summary: "a study over a Slurm cluster: a job array of --shard K/N tasks and the merge after them",
    load: async () => (await import("./slurm.js")).slurmCommand(),
  },
  {
    name: "init",
    usage: "[options] [file]",
    summary: "write a commented starter study config for `emp run`",
    load: async () => (await import("./init.js")).initCommand(),
  },
  {
    name: "history",
    usage: "[options] <dir>",
    summary:
      "sessions (time spent, failures), commits (build and runs) and failures recorded by `emp run` in DIR",
    load: async () => (await import("./history.js")).historyCommand(),
  },
  {
    name: "report",
    usage: "[options] [dirs...]",
    summary: "compare energy between commits (in git history order) or labels, with tests and effect sizes",
    load: async () => (await import("./report.js")).reportCommand(),
  },
  {
    name: "plot",
    usage: "[options] [dirs...]",
    summary: "draw power traces, energy per commit along history and distributions to SVG, PNG or HTML",
    load: async () => (await import("./plot.js")).plotCommand(),
  },
];

/** The summary of command `name`, for its own definition (one text for the list and its --help). */
export function summaryOf(name: string): string {
  return COMMANDS.find((c) => c.name === name)?.summary ?? "";
}
