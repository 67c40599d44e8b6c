// `emp merge DIR... --out DIR`: one study directory from the directories of several `emp run`
// sessions (the shards of a Slurm job array, or one study measured on two machines): their ledgers
// in one, each session's samples and the run logs copied, runs.arrow written from the merged ledger.
// Sessions of another config or emp version, and estimated beside measured energy, are refused
// unless --force says otherwise (and merge.json records what it let through); sessions of several
// hosts are kept with a warning: each run's net energy stays over its own session's baseline.
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join, relative, resolve } from "node:path";
import { type Shard, shardText } from "../config/shard.js";
import type { StudyConfig } from "../config/study.js";
import { GitError, UsageError } from "../errors.js";
import { Mirror } from "../git/repository.js";
import { LEDGER_FILE, Ledger } from "../ledger/ledger.js";
import { prepareOutputDir } from "../measure/preflight.js";
import { empVersion } from "../measure/provenance.js";
import { workColumns } from "../measure/work.js";
import { writeJsonAtomic } from "../results/atomic.js";
import { DirectoryLock } from "../results/lock.js";
import { readArrowTable } from "../results/read.js";
import { heldSession } from "../results/session-files.js";
import { StudyRunsTable } from "./runs-table.js";
import type { ShardSummary } from "./summary.js";

export interface MergeOptions {
  inputs: readonly string[];
  out: string;
  /** Merge sessions of different configs or emp versions, or estimated with measured energy. */
  force?: boolean;
}

export interface MergeInput {
  dir: string;
  sessions: number;
  /** Measured runs, warmups not counted. */
  runs: number;
  hosts: string[];
  shard: string | null;
}

export interface MergeSummary {
  out: string;
  inputs: MergeInput[];
  sessions: number;
  /** Measured runs, warmups not counted. */
  runs: number;
  commits: number;
  config_hashes: string[];
  /** What --force let through; also in merge.json. */
  forced: string[];
  warnings: string[];
}

/** What emp merge reads of an input before it writes anything. */
interface Inspected {
  dir: string;
  sessions: { id: string; configHash: string; empVersion: string; host: string; config: unknown }[];
  runs: number;
  provenance: Record<string, unknown> | null;
}

export const MERGE_FILE = "merge.json";

const FIX_INPUT = "pass the results directories of `emp run` sessions (each holds ledger.sqlite)";

export async function mergeStudies(options: MergeOptions): Promise<MergeSummary> {
  const inputs = inspectInputs(options.inputs, resolve(options.out));
  const { forced, warnings } = checkCompatible(inputs, options.force ?? false);
  const out = prepareOutputDir(options.out);
  if (heldSession(out) !== undefined) {
    throw new UsageError(`${out} holds results already`, {
      suggestion: "merge into a new folder: give --out a path that does not exist yet",
      path: out,
    });
  }
  const lock = DirectoryLock.acquire(out);
  try {
    const ledger = Ledger.open(out);
    try {
      for (const input of inputs) {
        const logs = copyLogs(input.dir, out, warnings);
        copySamples(input, out);
        const counts = ledger.absorb(join(input.dir, LEDGER_FILE), (p) => logs.get(p) ?? p);
        for (const sha of counts.calibrationConflicts) {
          warnings.push(
            `${input.dir}: commit ${sha.slice(0, 12)} was calibrated to another iteration count in an earlier directory; the earlier count is kept`,
          );
        }
      }
      writeRunsTable(out, ledger, inputs);
      await copyRepository(
        inputs,
        out,
        ledger.commits().map((c) => c.sha),
        warnings,
      );
      const sessions = ledger.sessions();
      const summary: MergeSummary = {
        out,
        inputs: inputs.map((i) => ({
          dir: i.dir,
          sessions: i.sessions.length,
          runs: i.runs,
          hosts: [...new Set(i.sessions.map((s) => s.host))],
          shard: shardOf(i)?.text ?? null,
        })),
        sessions: sessions.length,
        runs: measuredRuns(ledger),
        commits: ledger.commits().length,
        config_hashes: [...new Set(sessions.map((s) => s.configHash))],
        forced,
        warnings,
      };
      // The record of how the directory was made, beside the ledger it made.
      writeJsonAtomic(join(out, MERGE_FILE), {
        merged_at: new Date().toISOString(),
        emp_version: empVersion(),
        ...summary,
      });
      return summary;
    } finally {
      ledger.close();
    }
  } finally {
    lock.release();
  }
}

function inspectInputs(dirs: readonly string[], out: string): Inspected[] {
  if (dirs.length === 0) throw new UsageError("no directory to merge", { suggestion: FIX_INPUT });
  const seen = new Set<string>();
  return dirs.map((given) => {
    const dir = resolve(given);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new UsageError(`${given}: no such directory`, { suggestion: FIX_INPUT, path: dir });
    }
    if (seen.has(dir)) {
      throw new UsageError(`${given} is named twice`, { suggestion: "name each directory once", path: dir });
    }
    seen.add(dir);
    if (dir === out) {
      throw new UsageError(`--out ${given} is one of the directories to merge`, {
        suggestion: "merge into a new folder: give --out a path that does not exist yet",
        path: dir,
      });
    }
    if (!existsSync(join(dir, LEDGER_FILE))) {
      const kind = heldSession(dir)?.kind;
      throw new UsageError(
        kind === "measure"
          ? `${given} holds an emp measure session: only studies of emp run are merged`
          : `${given} holds no ledger.sqlite`,
        { suggestion: FIX_INPUT, path: dir },
      );
    }
    const owner = DirectoryLock.owner(dir);
    if (owner !== undefined) {
      throw new UsageError(`${given} is in use by another emp (pid ${owner})`, {
        suggestion: "merge it once that session has ended",
        path: dir,
      });
    }
    const ledger = Ledger.open(dir, { readOnly: true });
    try {
      const sessions = ledger.sessions().map((s) => ({
        id: s.id,
        configHash: s.configHash,
        empVersion: s.empVersion,
        host: s.host,
        config: s.config,
      }));
      return { dir, sessions, runs: measuredRuns(ledger), provenance: runsProvenance(dir) };
    } finally {
      ledger.close();
    }
  });
}

/** The measured runs a ledger holds: its warmups are runs to the ledger, not to the user. */
function measuredRuns(ledger: Ledger): number {
  return ledger.runs().filter((r) => !r.warmup).length;
}

/** The provenance runs.arrow carries (its latest session's), or null when there is none to read. */
function runsProvenance(dir: string): Record<string, unknown> | null {
  const path = join(dir, "runs.arrow");
  if (!existsSync(path)) return null;
  const table = readArrowTable(path, `\`emp resume ${dir}\` writes it again from its ledger`);
  try {
    return JSON.parse(table.schema.metadata.get("emp.provenance") ?? "null");
  } catch {
    return null;
  }
}

function shardOf(input: Inspected): (ShardSummary & { text: string }) | null {
  const shard = input.provenance?.shard as ShardSummary | undefined;
  return shard === undefined ? null : { ...shard, text: shardText(shard as Shard) };
}

/** Refusals (unless forced) and warnings, before anything is written. */
function checkCompatible(inputs: Inspected[], force: boolean): { forced: string[]; warnings: string[] } {
  const forced: string[] = [];
  const warnings: string[] = [];
  const refuse = (problem: string, fix: string) => {
    if (!force)
      throw new UsageError(problem, { suggestion: `${fix}, or merge anyway with --force (recorded)` });
    forced.push(problem);
    warnings.push(`--force: ${problem}`);
  };
  const sessions = inputs.flatMap((i) => i.sessions.map((s) => ({ ...s, dir: i.dir })));
  const hashes = [...new Set(sessions.map((s) => s.configHash))];
  if (hashes.length > 1) {
    refuse(
      `the sessions ran ${hashes.length} different configs (${hashes.map((h) => h.slice(0, 12)).join(", ")}): their runs are different measurements`,
      "merge only directories of one study config",
    );
  }
  const versions = [...new Set(sessions.map((s) => s.empVersion))];
  if (versions.length > 1) {
    refuse(
      `the sessions were recorded by different emp versions (${versions.join(", ")})`,
      "measure every shard with the same emp",
    );
  }
  const estimated = inputs.filter((i) => i.provenance?.estimated === true).map((i) => i.dir);
  if (estimated.length > 0 && estimated.length < inputs.length) {
    refuse(
      `${estimated.join(", ")} hold${estimated.length === 1 ? "s" : ""} ESTIMATED energy and the others measured energy`,
      "measure every shard on machines with energy sensors",
    );
  }
  const shards = inputs.map(shardOf);
  const sharded = shards.filter((s) => s !== null);
  if (sharded.length > 0) {
    const cuts = new Set(sharded.map((s) => `${s.count}:${s.selection}`));
    if (cuts.size > 1 || sharded.length < inputs.length) {
      refuse(
        "the directories are not shards of one selection of commits (different shard counts, selections that resolved differently, or a whole study beside shards)",
        "run every shard with the same config while its commits resolve the same (name tags or full commit ids)",
      );
    }
    const count = sharded[0]?.count ?? 0;
    const present = new Set(sharded.map((s) => s.index));
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !present.has(k));
    if (missing.length > 0) {
      warnings.push(
        `shard${missing.length === 1 ? "" : "s"} ${missing.map((k) => `${k}/${count}`).join(", ")} missing: their commits are not in the merged study`,
      );
    }
  }
  const hosts = [...new Set(sessions.map((s) => s.host))];
  if (hosts.length > 1) {
    warnings.push(
      `sessions from ${hosts.length} hosts (${hosts.join(", ")}): each run's net energy is over its own session's idle baseline, measured on its host; compare commits measured on one host`,
    );
  }
  return { forced, warnings };
}

/** Copies `dir`/logs into `out`/logs without replacing a file; returns old path -> new path. */
function copyLogs(dir: string, out: string, warnings: string[]): Map<string, string> {
  const moved = new Map<string, string>();
  const from = join(dir, "logs");
  if (!existsSync(from)) return moved;
  let kept = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const source = join(folder, entry.name);
      const target = join(out, "logs", relative(from, source));
      if (entry.isDirectory()) {
        mkdirSync(target, { recursive: true });
        walk(source);
      } else if (entry.isFile()) {
        if (existsSync(target) && !sameContent(source, target)) {
          kept++; // the same commit's run N in two directories: this one's log stays where it is
          continue;
        }
        copyFileSync(source, target, constants.COPYFILE_FICLONE);
        moved.set(source, target);
      }
    }
  };
  walk(from);
  if (kept > 0)
    warnings.push(`${kept} logs of ${dir} share a name with one already merged: they stay in ${from}`);
  return moved;
}

function sameContent(a: string, b: string): boolean {
  return readFileSync(a).equals(readFileSync(b));
}

/** Each session's samples file, under its session id (unique across the inputs: absorb checks). */
function copySamples(input: Inspected, out: string): void {
  mkdirSync(join(out, "samples"), { recursive: true });
  for (const { id } of input.sessions) {
    const source = join(input.dir, "samples", `${id}.arrow`);
    if (existsSync(source)) {
      copyFileSync(
        source,
        join(out, "samples", `${id}.arrow`),
        constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL,
      );
    }
  }
}

/**
 * emp report orders a study's commits by history and names them from its copy of the repository:
 * the merged directory gets one, cloned from an input's, with every merged commit in it.
 */
async function copyRepository(
  inputs: Inspected[],
  out: string,
  shas: string[],
  warnings: string[],
): Promise<void> {
  const source = inputs.map((i) => join(i.dir, "repo.git")).find((path) => existsSync(path));
  if (source === undefined) {
    warnings.push(
      "no directory holds repo.git: emp report will order the commits as first measured, not by history",
    );
    return;
  }
  const mirror = await Mirror.open(source, join(out, "repo.git"));
  try {
    await mirror.ensureCommits(shas);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    warnings.push(`${error.message}: emp report will order those commits as first measured`);
  }
}

/** runs.arrow from the merged ledger; its provenance names the merge and every input's own. */
function writeRunsTable(out: string, ledger: Ledger, inputs: Inspected[]): void {
  const last = ledger.sessions().at(-1)?.config as { config?: Partial<StudyConfig> } | undefined;
  const runs = ledger.runs();
  const domains = [...new Set(runs.flatMap((r) => Object.keys(r.energy)))].sort();
  const columns = workColumns(domains, last?.config?.work, last?.config?.metrics ?? []);
  const provenance = {
    emp_version: empVersion(),
    host: hostname(),
    estimated: inputs.some((i) => i.provenance?.estimated === true),
    merged_from: inputs.map((i) => ({ dir: i.dir, provenance: i.provenance })),
  };
  new StudyRunsTable(
    join(out, "runs.arrow"),
    ledger,
    provenance,
    "merge",
    domains,
    Object.fromEntries(columns.map((c) => [c.name, c.unit])),
  ).close();
}
