// Results directories read back for report and plot: the runs of `emp measure` sessions and `emp run`
// studies (runs.arrow), where each session's samples are, and the study's bare mirror of its repository.
// A study folder holds the runs of every config it was run with; one config is read at a time: the
// one measured last, or the one `--config` names. What a crash or a full disk left half written is
// repaired first (results/repair.ts).
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Table } from "apache-arrow";
import { EmpError, UsageError } from "../errors.js";
import { DirectoryLock } from "../results/lock.js";
import { readArrowTable } from "../results/read.js";
import { repairResults } from "../results/repair.js";

/** Which energy of a run to analyse: idle baseline subtracted (net) or as the counters read it (raw). */
export type EnergyKind = "net" | "raw";

export const ENERGY_KINDS: readonly EnergyKind[] = ["net", "raw"];

/** One row of runs.arrow, with the directory it came from. */
export interface RunRow {
  dir: string;
  session: string;
  commit: string | null;
  label: string;
  /** The command's name in an emp compare session; null elsewhere. */
  command: string | null;
  /** Times the command ran back to back in the run (--min-run-ms); energy and duration are of all of them. */
  iterations: number;
  /** Repetition within its commit or measurement. */
  index: number;
  /** The run's number in its session's samples. */
  run: number;
  /** The study config it ran under; null in an emp measure session. */
  configHash: string | null;
  warmup: boolean;
  startNs: bigint;
  endNs: bigint;
  durationS: number;
  exitCode: number | null;
  /** Per domain; null where the run has no value for the domain. */
  rawJ: Record<string, number | null>;
  baselineJ: Record<string, number | null>;
  netJ: Record<string, number | null>;
  /**
   * Quantities compared like an energy domain, by their name in the report: net energy per unit of
   * work (`package-0 J/MB`, from --work or --metric) and each --metric (`metric tput`).
   */
  quantities: Record<string, number | null>;
}

export interface ResultsDir {
  /** As given on the command line. */
  dir: string;
  /** `session`: written by emp measure (samples.arrow beside runs.arrow); `study`: by emp run. */
  kind: "session" | "study";
  /** samples file per session id, where one exists. */
  samples: Map<string, string>;
  /** The study's bare mirror of the measured repository, where there is one. */
  repoGit: string | null;
  /** The energy came from the labelled estimate, not a sensor (runs.arrow's provenance says). */
  estimated: boolean;
  /** Every config the study's runs.arrow holds, in the order first measured; none for a session. */
  configs: ConfigRuns[];
  /** The config whose runs were read: the one measured last, or `--config`'s; null for a session. */
  config: string | null;
}

/** A config of a study and its measured runs (warmups apart). */
export interface ConfigRuns {
  hash: string;
  runs: number;
}

export interface LoadOptions {
  /** A study config's hash or a unique prefix of it; default: the config measured last. */
  config?: string;
}

export interface LoadedResults {
  dirs: ResultsDir[];
  /** Every run, warmups included, in the order of the directories and their rows. */
  rows: RunRow[];
  /** Energy domains, in the order their columns first appear, then the quantities of work and metrics. */
  domains: string[];
  /** The unit of each of `domains`: J for energy, J/MB per unit of work, a metric's own. */
  units: Record<string, string>;
  /** Files repaired on the way (after a crash or a failed write), a line each for a person. */
  repaired: string[];
}

const FIX_DIR = "pass a results directory written by `emp measure --out DIR` or by `emp run`";

/** Reads runs.arrow of every directory; a missing directory or file is a usage error (exit 2). */
export function loadResults(dirs: readonly string[], options: LoadOptions = {}): LoadedResults {
  if (dirs.length === 0) throw new UsageError("no results directory given", { suggestion: FIX_DIR });
  const loaded: ResultsDir[] = [];
  const rows: RunRow[] = [];
  const domains: string[] = [];
  const units: Record<string, string> = {};
  const repaired: string[] = [];
  for (const dir of dirs) {
    const path = resolve(dir);
    if (!existsSync(path)) {
      throw new UsageError(`${dir}: no such directory`, { suggestion: FIX_DIR, path });
    }
    if (!statSync(path).isDirectory()) {
      throw new UsageError(`${dir} is a file, not a results directory`, { suggestion: FIX_DIR, path });
    }
    const runsPath = join(path, "runs.arrow");
    if (!existsSync(runsPath)) {
      throw new UsageError(`${dir} holds no runs.arrow`, {
        suggestion: `${FIX_DIR}; a measurement stopped before its first run leaves none`,
        path: runsPath,
      });
    }
    repaired.push(...repairResults(path));
    const study = isStudy(path);
    const table = readRuns(path, runsPath, study ? FIX_STUDY(dir) : FIX_SESSION);
    const allRows = tableRows(table, dir);
    const configs = configsOf(allRows);
    if (study && configs.length === 0 && options.config !== undefined) {
      throw new UsageError(
        `--config ${options.config}: ${dir}/runs.arrow was written before it kept config hashes`,
        {
          suggestion: `\`emp resume ${dir}\` writes it again from ledger.sqlite, with them`,
        },
      );
    }
    const config = chooseConfig(dir, allRows, configs, options.config);
    const dirRows = config === null ? allRows : allRows.filter((r) => r.configHash === config);
    for (const domain of tableDomains(table)) if (!domains.includes(domain)) domains.push(domain);
    for (const q of tableQuantities(table)) {
      units[q.name] = q.unit;
      if (!domains.includes(q.name)) domains.push(q.name);
    }
    rows.push(...dirRows);
    loaded.push({ ...describeDir(dir, path, dirRows), estimated: wasEstimated(table), configs, config });
  }
  for (const d of domains) units[d] ??= "J";
  return { dirs: loaded, rows, domains, units, repaired };
}

const FIX_SESSION =
  "emp measure leaves runs.arrow complete after every run, so this one was cut short or changed since; measure again (--force replaces the session)";
const FIX_STUDY = (dir: string) =>
  `\`emp resume ${dir}\` writes it again from ledger.sqlite, which holds every run (and measures what the study still lacks)`;

/** An emp run folder: it has a ledger (or, from older versions, a samples folder). */
function isStudy(path: string): boolean {
  return existsSync(join(path, "ledger.sqlite")) || existsSync(join(path, "samples"));
}

/** Tries to read `runsPath`; while another emp is writing the folder, a read mid-append is tried again. */
function readRuns(dir: string, runsPath: string, suggestion: string): Table {
  for (let attempt = 0; ; attempt++) {
    try {
      return readArrowTable(runsPath, suggestion);
    } catch (error) {
      // An append rewrites the file's last few kilobytes in about a millisecond.
      if (attempt >= 20 || DirectoryLock.owner(dir) === undefined) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/** The configs of a study's rows, in the order first measured, with their measured runs. */
function configsOf(rows: readonly RunRow[]): ConfigRuns[] {
  const runs = new Map<string, number>();
  for (const row of rows) {
    if (row.configHash === null) continue;
    runs.set(row.configHash, (runs.get(row.configHash) ?? 0) + (row.warmup ? 0 : 1));
  }
  return [...runs].map(([hash, n]) => ({ hash, runs: n }));
}

const short = (hash: string) => hash.slice(0, 12);
const listed = (configs: readonly ConfigRuns[]) =>
  configs.map((c) => `${short(c.hash)} (${c.runs} runs)`).join(", ");

/** The config to read: `wanted` (a unique prefix) or, by default, that of the run measured last. */
function chooseConfig(
  dir: string,
  rows: readonly RunRow[],
  configs: readonly ConfigRuns[],
  wanted: string | undefined,
): string | null {
  if (configs.length === 0) {
    if (wanted === undefined) return null;
    throw new UsageError(`--config ${wanted}: ${dir} is an emp measure session, which has no configs`, {
      suggestion: "--config picks one of the configs an emp run study holds; leave it out here",
    });
  }
  if (wanted === undefined) return [...rows].reverse().find((r) => r.configHash !== null)?.configHash ?? null;
  const matches = configs.filter((c) => c.hash.startsWith(wanted.toLowerCase()));
  if (matches.length === 1) return (matches[0] as ConfigRuns).hash;
  if (matches.length === 0) {
    throw new UsageError(`--config ${wanted}: ${dir} holds no such config`, {
      suggestion: `it holds ${listed(configs)}`,
    });
  }
  throw new UsageError(
    `--config ${wanted} is ambiguous: ${dir} holds ${matches.length} configs that begin so`,
    {
      suggestion: `give more of the hash: ${listed(matches)}`,
    },
  );
}

/** For --json: per study folder, the config read and every config it holds. */
export function studyConfigs(results: LoadedResults): {
  dir: string;
  shown: string;
  configs: { config_hash: string; runs: number }[];
}[] {
  return results.dirs.flatMap((d) =>
    d.config === null
      ? []
      : [
          {
            dir: d.dir,
            shown: d.config,
            configs: d.configs.map((c) => ({ config_hash: c.hash, runs: c.runs })),
          },
        ],
  );
}

/** A line for a person where a folder holds more than one config: which was read, and the others. */
export function configNote(dir: ResultsDir, chosen: boolean): string | undefined {
  if (dir.config === null || dir.configs.length < 2) return undefined;
  const others = dir.configs.filter((c) => c.hash !== dir.config);
  const shown = dir.configs.find((c) => c.hash === dir.config);
  return (
    `${dir.dir} holds ${dir.configs.length} configs; this is ${short(dir.config)} (${shown?.runs ?? 0} runs, ` +
    `${chosen ? "chosen with --config" : "the one measured last"}); the others: ${listed(others)}; pick one with --config HASH`
  );
}

/**
 * The columns compared like an energy domain: `<domain>_net_j_per_unit` (named `<domain> J/MB` by its
 * unit) and `metric_<NAME>` (named `metric NAME`).
 */
function tableQuantities(table: Table): { column: string; name: string; unit: string }[] {
  // Energy per unit of work first, beside the energy it divides, then the metrics.
  const fields = [...table.schema.fields].sort(
    (a, b) => Number(a.name.startsWith(METRIC_PREFIX)) - Number(b.name.startsWith(METRIC_PREFIX)),
  );
  return fields.flatMap((f) => {
    const unit = f.metadata.get("unit") ?? "";
    if (f.name.endsWith(WORK_SUFFIX)) {
      return [{ column: f.name, name: `${f.name.slice(0, -WORK_SUFFIX.length)} ${unit}`, unit }];
    }
    if (f.name.startsWith(METRIC_PREFIX)) {
      return [{ column: f.name, name: `metric ${f.name.slice(METRIC_PREFIX.length)}`, unit }];
    }
    return [];
  });
}

const WORK_SUFFIX = "_net_j_per_unit";
const METRIC_PREFIX = "metric_";

/** Domains from the `<domain>_net_j` columns, named by their field metadata. */
function tableDomains(table: Table): string[] {
  return table.schema.fields
    .filter((f) => f.name.endsWith("_net_j"))
    .map((f) => f.metadata.get("domain") ?? f.name.slice(0, -"_net_j".length));
}

function tableRows(table: Table, dir: string): RunRow[] {
  const column = (name: string): unknown[] => {
    const vector = table.getChild(name);
    if (vector === null) {
      throw new EmpError("E_IO", `${dir}/runs.arrow has no column ${name}`, {
        suggestion: "it was written by another version of emp or another tool; measure again",
      });
    }
    return Array.from(vector);
  };
  const optional = (name: string): unknown[] | null =>
    table.getChild(name) === null ? null : Array.from(table.getChild(name) ?? []);
  const session = column("session") as string[];
  // Only a study's table has config hashes, and only since it holds every config's runs.
  const configHash = (optional("config_hash") ?? []) as (string | null)[];
  const commit = column("commit") as (string | null)[];
  const label = column("label") as string[];
  // Written since emp compare and --min-run-ms: absent in older files.
  const command = (optional("command") ?? []) as (string | null)[];
  const iterations = (optional("iterations") ?? []) as (number | null)[];
  const index = column("index") as number[];
  // Sessions written before runs.arrow had `run` number runs by index.
  const run = (optional("run") ?? index) as number[];
  const warmup = column("warmup") as boolean[];
  const startNs = column("start_ns") as bigint[];
  const endNs = column("end_ns") as bigint[];
  const durationS = column("duration_s") as number[];
  const exitCode = column("exit_code") as (number | null)[];
  const fields = table.schema.fields;
  const energy = (suffix: string) =>
    fields
      .filter((f) => f.name.endsWith(suffix))
      .map((f) => ({
        domain: f.metadata.get("domain") ?? f.name.slice(0, -suffix.length),
        values: column(f.name) as (number | null)[],
      }));
  const raw = energy("_raw_j");
  const baseline = energy("_baseline_j");
  const net = energy("_net_j");
  const pick = (columns: typeof raw, i: number) =>
    Object.fromEntries(columns.map((c) => [c.domain, c.values[i] ?? null]));
  const quantities = tableQuantities(table).map((q) => ({
    domain: q.name,
    values: column(q.column) as (number | null)[],
  }));
  return session.map((s, i) => ({
    dir,
    session: s,
    commit: commit[i] ?? null,
    label: label[i] ?? "",
    command: command[i] ?? null,
    iterations: iterations[i] ?? 1,
    index: index[i] as number,
    run: run[i] as number,
    configHash: configHash[i] ?? null,
    warmup: warmup[i] as boolean,
    startNs: startNs[i] as bigint,
    endNs: endNs[i] as bigint,
    durationS: durationS[i] as number,
    exitCode: exitCode[i] ?? null,
    rawJ: pick(raw, i),
    baselineJ: pick(baseline, i),
    netJ: pick(net, i),
    quantities: pick(quantities, i),
  }));
}

/** Whether the provenance in the table's metadata marks its energy as estimated. */
function wasEstimated(table: Table): boolean {
  try {
    const provenance = JSON.parse(table.schema.metadata.get("emp.provenance") ?? "null") as {
      estimated?: unknown;
    } | null;
    return provenance?.estimated === true;
  } catch {
    return false; // no readable provenance: nothing says it was estimated
  }
}

function describeDir(
  dir: string,
  path: string,
  rows: readonly RunRow[],
): Pick<ResultsDir, "dir" | "kind" | "samples" | "repoGit"> {
  const samples = new Map<string, string>();
  const sessions = [...new Set(rows.map((r) => r.session))];
  const study = existsSync(join(path, "samples")) && statSync(join(path, "samples")).isDirectory();
  for (const session of sessions) {
    const perSession = join(path, "samples", `${session}.arrow`);
    if (existsSync(perSession)) samples.set(session, perSession);
  }
  // An emp measure session keeps its one samples file beside runs.arrow.
  const single = join(path, "samples.arrow");
  if (sessions.length === 1 && samples.size === 0 && existsSync(single)) {
    samples.set(sessions[0] as string, single);
  }
  const repoGit = join(path, "repo.git");
  return {
    dir,
    kind: study ? "study" : "session",
    samples,
    repoGit: existsSync(repoGit) ? repoGit : null,
  };
}

/**
 * The energy of one run in one domain, J, per iteration where the run was iterated (--min-run-ms):
 * the energy of the command once. Null where the run has none.
 */
export function energyOf(row: RunRow, domain: string, kind: EnergyKind): number | null {
  // Energy per unit of work is per iteration already, and a metric is what the run printed.
  if (domain in row.quantities) {
    const q = row.quantities[domain];
    return q === null || q === undefined || !Number.isFinite(q) ? null : q;
  }
  const value = (kind === "net" ? row.netJ : row.rawJ)[domain];
  return value === undefined || value === null || !Number.isFinite(value) ? null : value / row.iterations;
}

/** A run's duration, s, per iteration where it was iterated. */
export function durationOf(row: RunRow): number {
  return row.durationS / row.iterations;
}

/**
 * The name a run's group goes by when runs are grouped by label: the command's name in an emp compare
 * session (with its label, where one was given), else its label, else its directory.
 */
export function labelOf(row: RunRow): string {
  if (row.command !== null) return row.label !== "" ? `${row.label}: ${row.command}` : row.command;
  return row.label !== "" ? row.label : basename(resolve(row.dir));
}
