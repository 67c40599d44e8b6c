// From a parsed config to the study the pipeline runs: defaults filled in, CLI flags over the file,
// where each value came from, paths made absolute, and the hashes that decide which runs are done.
import { createHash } from "node:crypto";
import { basename, dirname, extname, resolve } from "node:path";
import type { z } from "zod";
import { UsageError } from "../errors.js";
import type { MetricSpec } from "../measure/work.js";
import { shardText } from "./shard.js";
import {
  FILE_KEYS,
  knownKeys,
  STUDY_DEFAULTS,
  type StudyConfig,
  studyFields,
  studyFileSchema,
  type ValueOrigin,
} from "./study.js";

/** Values from `emp run`'s flags, already typed; each is checked by the rule of its config key. */
export interface StudyFlags {
  out?: string;
  repeat?: number;
  warmup?: number;
  sampleHz?: number;
  jobs?: number;
  order?: string;
  seed?: number;
  baselineS?: number;
  cooldownS?: number;
  timeoutS?: number;
  waitDescendants?: boolean;
  minRunMs?: number;
  sources?: string[];
  /** "K/N", checked by the `shard` key's rule. */
  shard?: string;
}

export interface ResolvedStudy {
  config: StudyConfig;
  origins: Record<keyof StudyConfig, ValueOrigin>;
  /** Absolute. */
  configPath: string;
  configDir: string;
  /** What decides a run's measured value: runs under the same hash count as done. */
  hash: string;
  /** What decides a commit's build: a build under the same prepareHash is reused. */
  prepareHash: string;
}

/** Line (1-based) of the key at `path` in the config's text, or of its nearest ancestor there. */
export type KeyLocator = (path: readonly PropertyKey[]) => number | undefined;

const FLAG_NAMES: Record<keyof StudyFlags, string> = {
  out: "--out",
  repeat: "--repeat",
  warmup: "--warmup",
  sampleHz: "--sample-hz",
  jobs: "--jobs",
  order: "--order",
  seed: "--seed",
  baselineS: "--baseline",
  cooldownS: "--cooldown",
  timeoutS: "--timeout",
  waitDescendants: "--wait-descendants",
  minRunMs: "--min-run-ms",
  sources: "--sources",
  shard: "--shard",
};

const CONFIG_KEYS = Object.keys(FILE_KEYS) as (keyof StudyConfig)[];

/**
 * Validates a parsed config (snake_case keys, as in the file) and resolves it against the config
 * file's folder and the flags. Problems are one UsageError naming the file, key path and, with
 * `locate`, the line.
 */
export function resolveStudy(
  raw: unknown,
  source: { configPath: string; locate?: KeyLocator },
  flags: StudyFlags = {},
): ResolvedStudy {
  const file = parseFile(raw, source.configPath, source.locate);
  const given = parseFlags(flags);
  const configPath = resolve(source.configPath);
  const configDir = dirname(configPath);

  const origins = {} as Record<keyof StudyConfig, ValueOrigin>;
  const values: Record<string, unknown> = {};
  const defaults: Partial<Record<keyof StudyConfig, unknown>> = STUDY_DEFAULTS;
  for (const key of CONFIG_KEYS) {
    const fromFlag = given[key];
    const fromFile = file[FILE_KEYS[key]];
    origins[key] = fromFlag !== undefined ? "flag" : fromFile !== undefined ? "file" : "default";
    // A copy, so that a caller changing its config never changes the shared defaults.
    const value = fromFlag ?? fromFile ?? structuredClone(defaults[key]);
    if (value !== undefined) values[key] = value;
  }
  // The schema requires commits and command, so every required key now holds a value.
  const config = values as unknown as StudyConfig;

  if (!isUrl(config.repo)) config.repo = resolve(configDir, config.repo);
  config.stages = config.stages.map((stage) => ({ ...stage, module: resolve(configDir, stage.module) }));
  config.out =
    origins.out === "flag"
      ? resolve(config.out)
      : origins.out === "file"
        ? resolve(configDir, config.out)
        : resolve("emp-results", basename(configPath, extname(configPath)) + shardSuffix(config.shard));

  return {
    config,
    origins,
    configPath,
    configDir,
    hash: studyHash(config),
    prepareHash: prepareHash(config),
  };
}

/** Shards of one study default to folders of their own: they may run at once on one file system. */
function shardSuffix(shard: StudyConfig["shard"]): string {
  return shard === undefined ? "" : `-shard-${shard.index}-of-${shard.count}`;
}

/** A git URL (`https://`, `ssh://`, `file://`, ...) or scp-like `git@host:path`, else a local path. */
export function isUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[\w.-]+@[\w.-]+:/.test(repo);
}

function parseFile(raw: unknown, file: string, locate?: KeyLocator) {
  if (raw === null || raw === undefined) {
    throw new UsageError(`${file} is empty`, {
      suggestion: "`emp init` writes a starter config with every key explained",
    });
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new UsageError(`${file}: must be a mapping of keys (commits: ..., command: ...)`, {
      suggestion: "`emp init` writes a starter config with every key explained",
    });
  }
  // `key:` with nothing after it reads as null in YAML; a person writing that means "not set".
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null));
  const parsed = studyFileSchema.safeParse(present, { reportInput: true });
  if (parsed.success) return parsed.data;
  const located = parsed.error.issues.flatMap(describeIssue).map(({ path, problem }) => {
    const line = locate?.(path);
    return { line, text: `${file}${line === undefined ? "" : `:${line}`}: ${keyPath(path)}: ${problem}` };
  });
  // In the file's order, so that a person fixes them top to bottom; those without a line come first.
  located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new UsageError([...new Set(located.map((p) => p.text))].join("\n"), {
    suggestion: `edit ${file} as said; \`emp init\` writes a starter config with every key explained`,
  });
}

function parseFlags(flags: StudyFlags): Partial<StudyConfig> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  // Only the known flags: a caller may hand over its whole options object.
  for (const key of Object.keys(FLAG_NAMES) as (keyof StudyFlags)[]) {
    const value = flags[key];
    if (value === undefined) continue;
    const parsed = studyFields[FILE_KEYS[key]].safeParse(value, { reportInput: true });
    if (parsed.success) values[key] = parsed.data;
    for (const issue of parsed.error?.issues ?? []) {
      for (const { problem } of describeIssue(issue)) problems.push(`${FLAG_NAMES[key]}: ${problem}`);
    }
  }
  if (problems.length > 0) {
    throw new UsageError([...new Set(problems)].join("\n"), { suggestion: "see `emp run --help`" });
  }
  return values;
}

interface Problem {
  path: PropertyKey[];
  problem: string;
}

/** Zod's issue as a person's problem and fix: unknown keys get the nearest known key. */
function describeIssue(issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const near = nearest(key, known);
      const hint = near
        ? `did you mean \`${near}\`?`
        : known.length <= 6
          ? `known keys: ${known.join(", ")}`
          : "`emp init` writes every key with its meaning";
      return { path: [...issue.path, key], problem: `unknown key; ${hint}` };
    });
  }
  if (issue.input === undefined && issue.code === "invalid_type") {
    return [{ path: issue.path, problem: `missing: ${issue.message}` }];
  }
  const got = describeInput(issue.input);
  return [{ path: issue.path, problem: got === undefined ? issue.message : `${issue.message}; got ${got}` }];
}

/** Scalars as written (strings quoted); lists and mappings are left unsaid, the key path shows them. */
function describeInput(input: unknown): string | undefined {
  if (input === null) return "nothing";
  if (typeof input === "string")
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  if (typeof input === "number" || typeof input === "boolean") return String(input);
  return undefined;
}

/** `stages[1].group`, as a person would name the key. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((step, i) => (typeof step === "number" ? `[${step}]` : `${i === 0 ? "" : "."}${String(step)}`))
    .join("");
}

/** The known key closest to `word` by edit distance, when close enough to be the one meant. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  // Lower case first, so that batchSize finds batch_size one edit away.
  const target = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(target, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** JSON with keys sorted at every level, and undefined as null, so equal content hashes equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function sha256(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** Sources and counters are sets: their order in the file does not change what a run reads. */
const sorted = (names?: string[]) => (names === undefined ? undefined : [...names].sort());

/**
 * Hash of what decides a run's measured value. Repetitions, warmups (`warmup`, `warmup_policy`),
 * order, timing around the runs and post_command are left out: changing them adds or stops runs but
 * keeps those done comparable.
 */
export function studyHash(config: StudyConfig): string {
  return sha256({
    command: config.command,
    build: config.build,
    setup: config.setup,
    env: config.env,
    sample_hz: config.sampleHz,
    sources: sorted(config.sources),
    counters: sorted(config.counters),
    tdp: config.tdpW,
    // Only when set, so the hashes of studies from before the key existed stay as they were.
    ...(config.waitDescendants ? { wait_descendants: true } : {}),
    // A run of N iterations measures N times the command's work: runs of another min_run_ms (or
    // without) are not the same measurement.
    ...(config.minRunMs !== undefined ? { min_run_ms: config.minRunMs } : {}),
  });
}

/** Hash of what decides a commit's prepared worktree. */
export function prepareHash(config: StudyConfig): string {
  return sha256({ build: config.build, setup: config.setup, env: config.env });
}

/** A metric as the study file writes it: NAME[UNIT]=REGEX. */
function metricText(m: MetricSpec): string {
  return `${m.name}${m.unit ? `[${m.unit}]` : ""}=${m.pattern}`;
}

/**
 * The config back in the file's form (snake_case, durations in seconds): what `emp resume` stores,
 * and resolveStudy of it gives the same config and hashes.
 */
export function toStudyFile(config: StudyConfig): Record<string, unknown> {
  const file: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    if (config[key] !== undefined) file[FILE_KEYS[key]] = config[key];
  }
  if ("refs" in config.commits) file.commits = config.commits.refs;
  if (config.work) file.work = `${config.work.amount} ${config.work.unit}`;
  if (config.metrics) file.metrics = config.metrics.map(metricText);
  if (config.shard) file.shard = shardText(config.shard);
  if (config.temperatureLimit) {
    file.temperature_limit = {
      max_c: config.temperatureLimit.maxC,
      max_wait: config.temperatureLimit.maxWaitS,
    };
  }
  return file;
}
