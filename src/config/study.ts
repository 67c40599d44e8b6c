// The study config `emp run` reads: its keys as zod schemas, and the defaults of those left out.
// Every rule reads "must be ...", so the message that names a key also says how to fix it.
import { z } from "zod";
import { UsageError } from "../errors.js";
import type { CommitSelection } from "../git/commit.js";
import { ENERGY_PREFERENCE } from "../measure/select-sources.js";
import { type MetricSpec, parseMetric, parseWork, type WorkSpec } from "../measure/work.js";
import { PERF_EVENTS } from "../native.js";
import { DURATION_FORMS, parseDurationS } from "./duration.js";
import { parseShard, type Shard, shardProblem } from "./shard.js";

/** How often a stage runs: once per session, per unique commit, per run, or once at the end. */
export type StageGroup = "pre" | "prepare" | "run" | "post";

export const STAGE_GROUPS: readonly StageGroup[] = ["pre", "prepare", "run", "post"];

/** A stage loaded from a user's file: its module's default export is a factory. */
export interface CustomStageSpec {
  /** Absolute path of the module. */
  module: string;
  group: StageGroup;
  options: Record<string, unknown>;
}

export const STUDY_ORDERS = ["interleaved", "shuffled", "grouped"] as const;
export type StudyOrder = (typeof STUDY_ORDERS)[number];

/** When a commit's warmups run: before each of its visits, or before its first visit of a session only. */
export const WARMUP_POLICIES = ["every-visit", "first-visit"] as const;
export type WarmupPolicy = (typeof WARMUP_POLICIES)[number];

/** A study as the pipeline uses it: defaults filled in, durations in seconds, paths absolute. */
export interface StudyConfig {
  repo: string;
  commits: CommitSelection;
  paths: string[];
  build?: string;
  setup?: string;
  postCommand?: string;
  command: string | string[];
  env: Record<string, string>;
  repeat: number;
  warmup: number;
  warmupPolicy: WarmupPolicy;
  batchSize: number;
  jobs: number;
  seed: number;
  order: StudyOrder;
  baselineS: number;
  cooldownS: number;
  timeoutS?: number;
  /** A run lasts until every process its command started has ended, not just the command. */
  waitDescendants: boolean;
  /**
   * Each run lasts at least this long, ms: a shorter command runs back to back inside one run, as
   * many times as a calibration on the commit's first visit found (calibrate.ts); energy and time
   * are then reported per iteration.
   */
  minRunMs?: number;
  /** Fixed work of one run (one iteration): results gain net energy per unit of work. */
  work?: WorkSpec;
  /** Numbers read from each run's log; the first gives the work where `work` is not set. */
  metrics?: MetricSpec[];
  buildTimeoutS?: number;
  temperatureLimit?: { maxC: number; maxWaitS: number };
  sampleHz: number;
  sources?: string[];
  counters?: string[];
  tdpW?: number;
  stages: CustomStageSpec[];
  /** Only this slice of the selected commits (shard.ts); every shard a study directory of its own. */
  shard?: Shard;
  out: string;
}

export type ValueOrigin = "default" | "file" | "flag";

/** Values of the keys a config may leave out (`out` depends on the file's name: see resolve.ts). */
export const STUDY_DEFAULTS = {
  repo: ".",
  paths: [],
  env: {},
  repeat: 10,
  warmup: 1,
  // Every visit, as before the key existed: between two visits of a commit the others' runs leave
  // its binary and data out of the caches, and a study resumed or extended keeps measuring its runs
  // as its earlier ones were. first-visit is the choice for studies whose warmups cost too much.
  warmupPolicy: "every-visit",
  batchSize: 1,
  jobs: 1,
  seed: 1,
  order: "interleaved",
  baselineS: 5,
  cooldownS: 0,
  waitDescendants: false,
  sampleHz: 1000,
  stages: [],
  /** `temperature_limit.max_wait`. */
  temperatureMaxWaitS: 300,
} satisfies Partial<StudyConfig> & { temperatureMaxWaitS: number };

type Context = z.RefinementCtx;

/** Records a problem at `path` (below the key being parsed) and gives up on the value. */
function fail(ctx: Context, message: string, path: (string | number)[] = [], input?: unknown): never {
  ctx.addIssue({ code: "custom", message, path, ...(input === undefined ? {} : { input }) });
  return z.NEVER;
}

/** Parses `value` with `schema` inside another key's parse, keeping the issues' key paths. */
function sub<T>(schema: z.ZodType<T>, value: unknown, ctx: Context): T | undefined {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<Context["addIssue"]>[0]);
  return undefined;
}

/**
 * A key whose value comes in several forms, told apart by hand so that a mistake gets the message
 * of the form meant rather than zod's union of every form's complaint.
 */
function shaped<T>(parse: (value: unknown, ctx: Context) => T | undefined, required?: string) {
  return z.unknown().transform((value, ctx) => {
    if (value !== undefined) return parse(value, ctx);
    if (required !== undefined) fail(ctx, `missing: ${required}`);
    return undefined;
  });
}

const text = (rule: string) => z.string({ error: rule }).regex(/\S/, { error: rule });
const whole = (min: number, rule: string) => z.int({ error: rule }).min(min, { error: rule });
const number = (check: (n: number) => boolean, rule: string) =>
  z.number({ error: rule }).refine(check, { error: rule });
const list = <T extends z.ZodType>(item: T, rule: string) => z.array(item, { error: rule });

function duration(check: (seconds: number) => boolean, range: string) {
  const rule = `must be a duration ${range}: ${DURATION_FORMS}`;
  return shaped((value, ctx) => {
    if (typeof value !== "number" && typeof value !== "string") return fail(ctx, rule);
    let seconds: number;
    try {
      seconds = parseDurationS(value);
    } catch {
      return fail(ctx, rule);
    }
    return check(seconds) ? seconds : fail(ctx, rule);
  });
}

// YAML reads an unquoted short sha of digits (1234567, 12e4567) as a number: the fix is quoting it.
const ref = text('must be a git ref (quote one of only digits: "1234567")');

const COMMITS_RULE =
  "must be a ref (HEAD), a range (v1.0..HEAD), a list of refs, or a mapping: { last: N }, { range: A..B } or { tags: GLOB }";

const commitMapping = z.strictObject(
  {
    last: whole(1, "must be a whole number of commits, at least 1").optional(),
    ref: ref.optional(),
    range: z
      .string({ error: "must be a range A..B" })
      .regex(/\.\./, { error: "must be a range A..B" })
      .optional(),
    tags: z
      .union([z.literal(true), z.string().regex(/\S/)], {
        error: 'must be a glob ("v*") or true for every tag',
      })
      .optional(),
  },
  { error: COMMITS_RULE },
);

/** The forms of `commits`, normalised to one CommitSelection each. */
function commitSelection(value: unknown, ctx: Context): CommitSelection | undefined {
  if (typeof value === "string") {
    if (value.includes("..")) return { range: value };
    const one = sub(ref, value, ctx);
    return one === undefined ? undefined : { refs: [one] };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return fail(ctx, "must list at least one ref");
    const refs = sub(z.array(ref), value, ctx);
    return refs === undefined ? undefined : { refs };
  }
  if (typeof value !== "object" || value === null) return fail(ctx, COMMITS_RULE);
  const m = sub(commitMapping, value, ctx);
  if (m === undefined) return undefined;
  const forms = (["last", "range", "tags"] as const).filter((form) => m[form] !== undefined);
  if (forms.length !== 1) {
    return fail(
      ctx,
      forms.length === 0
        ? "must hold one of last: N, range: A..B or tags: GLOB"
        : `must hold one of last, range or tags, not ${forms.join(" and ")}`,
    );
  }
  if (m.ref !== undefined && m.last === undefined) return fail(ctx, "goes with last: N only", ["ref"], m.ref);
  if (m.last !== undefined) return { last: m.last, ref: m.ref ?? "HEAD" };
  if (m.range !== undefined) return { range: m.range };
  return { tags: m.tags === true || m.tags === undefined ? "*" : m.tags };
}

const COMMAND_RULE =
  'must be a shell command ("./bench --quick") or a list of arguments run without a shell ([./bench, --quick])';

function command(value: unknown, ctx: Context): string | string[] | undefined {
  if (typeof value === "string" && /\S/.test(value)) return value;
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((arg) => typeof arg === "string" && arg !== "")
  ) {
    return value as string[];
  }
  return fail(ctx, COMMAND_RULE);
}

const maxC = number((c) => c > 0 && c <= 150, "must be a temperature in °C, above 0 and at most 150");
const temperatureMapping = z.strictObject(
  { max_c: maxC, max_wait: duration((s) => s >= 0, "of 0 or more").optional() },
  { error: "must be a temperature in °C (max_c) or a mapping { max_c, max_wait }" },
);

/** `work: 256 MB`: the amount and unit of one run's work (work.ts). */
function workKey(value: unknown, ctx: Context): WorkSpec | undefined {
  const [amount = "", unit = "", ...rest] = typeof value === "string" ? value.trim().split(/\s+/) : [];
  try {
    if (typeof value !== "string" || rest.length > 0 || unit === "") throw new Error("not N UNIT");
    return parseWork(amount, unit);
  } catch {
    return fail(ctx, 'must be the work of one run: an amount and a unit, e.g. "256 MB"');
  }
}

/** `metrics: ["tput[MB/s]=([0-9.]+) MB/s"]`: numbers read from each run's log (work.ts). */
function metricKey(value: unknown, ctx: Context): MetricSpec {
  try {
    if (typeof value !== "string") throw new Error("not a string");
    return parseMetric(value);
  } catch (error) {
    const why = error instanceof UsageError ? error.message.replace(/^--metric /, "") : "not a string";
    return fail(ctx, `must be NAME[UNIT]=REGEX, e.g. "tput[MB/s]=([0-9.]+) MB/s" (${why})`);
  }
}

/** `shard: 2/4` (YAML reads it as a string). */
function shardKey(value: unknown, ctx: Context): Shard | undefined {
  if (typeof value !== "string") return fail(ctx, "must be K/N with whole numbers 1 <= K <= N, e.g. 1/4");
  const problem = shardProblem(value);
  return problem === undefined ? parseShard(value) : fail(ctx, problem);
}

/** A bare number is max_c, the common case; max_wait then takes its default. */
function temperatureLimit(value: unknown, ctx: Context) {
  const t = sub(temperatureMapping, typeof value === "number" ? { max_c: value } : value, ctx);
  return t && { maxC: t.max_c, maxWaitS: t.max_wait ?? STUDY_DEFAULTS.temperatureMaxWaitS };
}

const stage = z.strictObject(
  {
    module: text("must be the path of a module, relative to the config file"),
    group: z.enum(STAGE_GROUPS, { error: `must be one of ${STAGE_GROUPS.join(", ")}` }),
    options: z.record(z.string(), z.unknown(), { error: "must be a mapping of options" }).default({}),
  },
  { error: "must be a mapping { module, group, options }" },
);

const shell = (what: string) => text(`must be a shell command (a string) ${what}`).optional();

/** Each key of a study config file, by its name in the file. */
export const studyFields = {
  repo: text("must be a path (relative to the config file) or a git URL").optional(),
  commits: shaped(commitSelection, COMMITS_RULE),
  paths: list(text("must be a git pathspec"), "must be a list of pathspecs").optional(),
  build: shell("run once per commit"),
  setup: shell("run once per commit after build"),
  post_command: shell("run after every run"),
  command: shaped(command, COMMAND_RULE),
  env: z
    .record(z.string(), z.string({ error: 'must be a string: quote numbers and booleans ("4")' }), {
      error: "must be a mapping NAME: value",
    })
    .optional(),
  repeat: whole(1, "must be a whole number of measured runs, from 1 to 1000000")
    .max(1_000_000, {
      error: "must be a whole number of measured runs, from 1 to 1000000",
    })
    .optional(),
  warmup: whole(0, "must be a whole number of runs, from 0 to 1000000")
    .max(1_000_000, {
      error: "must be a whole number of runs, from 0 to 1000000",
    })
    .optional(),
  warmup_policy: z
    .enum(WARMUP_POLICIES, { error: `must be one of ${WARMUP_POLICIES.join(", ")}` })
    .optional(),
  batch_size: whole(1, "must be a whole number of runs, at least 1").optional(),
  jobs: whole(1, "must be a whole number of parallel builds, at least 1").optional(),
  seed: z.int({ error: "must be a whole number" }).optional(),
  order: z.enum(STUDY_ORDERS, { error: `must be one of ${STUDY_ORDERS.join(", ")}` }).optional(),
  baseline: duration((s) => s > 0 && s <= 3600, "above 0 and at most 1h").optional(),
  cooldown: duration((s) => s <= 3600, "of at most 1h").optional(),
  timeout: duration((s) => s > 0, "above 0").optional(),
  wait_descendants: z.boolean({ error: "must be true or false" }).optional(),
  min_run_ms: number(
    (ms) => ms > 0 && ms <= 86_400_000,
    "must be milliseconds a run lasts at least, above 0 and at most 86400000 (a day)",
  ).optional(),
  work: shaped(workKey).optional(),
  metrics: list(z.unknown().transform(metricKey), "must be a list of NAME[UNIT]=REGEX").optional(),
  build_timeout: duration((s) => s > 0, "above 0").optional(),
  temperature_limit: shaped(temperatureLimit).optional(),
  sample_hz: number(
    (hz) => hz > 0 && hz <= 100_000,
    "must be a rate in Hz, above 0 and at most 100000",
  ).optional(),
  sources: list(
    z.enum(ENERGY_PREFERENCE, { error: `must be one of ${ENERGY_PREFERENCE.join(", ")}` }),
    "must be a list of energy interfaces",
  )
    .min(1, { error: "must name at least one energy interface (or leave sources out)" })
    .optional(),
  counters: list(
    z.enum(PERF_EVENTS, { error: `must be one of ${PERF_EVENTS.join(", ")}` }),
    "must be a list of perf event names",
  ).optional(),
  tdp: number((w) => w > 0 && w <= 10_000, "must be watts, above 0 and at most 10000").optional(),
  stages: list(stage, "must be a list of { module, group, options }").optional(),
  shard: shaped(shardKey).optional(),
  out: text("must be a folder path").optional(),
};

export const studyFileSchema = z.strictObject(studyFields, {
  error: "must be a mapping of keys (see `emp init` for an example)",
});
export type StudyFile = z.output<typeof studyFileSchema>;

/** Where each StudyConfig key is in the file (snake_case there, names with units here). */
export const FILE_KEYS = {
  repo: "repo",
  commits: "commits",
  paths: "paths",
  build: "build",
  setup: "setup",
  postCommand: "post_command",
  command: "command",
  env: "env",
  repeat: "repeat",
  warmup: "warmup",
  warmupPolicy: "warmup_policy",
  batchSize: "batch_size",
  jobs: "jobs",
  seed: "seed",
  order: "order",
  baselineS: "baseline",
  cooldownS: "cooldown",
  timeoutS: "timeout",
  waitDescendants: "wait_descendants",
  minRunMs: "min_run_ms",
  work: "work",
  metrics: "metrics",
  buildTimeoutS: "build_timeout",
  temperatureLimit: "temperature_limit",
  sampleHz: "sample_hz",
  sources: "sources",
  counters: "counters",
  tdpW: "tdp",
  stages: "stages",
  shard: "shard",
  out: "out",
} as const satisfies Record<keyof StudyConfig, keyof typeof studyFields>;

// The compiler checks that each file key parses to what StudyConfig holds under its name.
type Parsed<K extends keyof StudyConfig> = StudyFile[(typeof FILE_KEYS)[K]];
type Mismatched = {
  [K in keyof StudyConfig]-?: NonNullable<Parsed<K>> extends StudyConfig[K] ? never : K;
}[keyof StudyConfig];
const _fileKeysMatch: [Mismatched] extends [never] ? true : Mismatched = true;

/** Keys a mapping at `path` may hold, for "did you mean" (indexes do not matter: stages[3] is stages). */
export function knownKeys(path: readonly PropertyKey[]): readonly string[] {
  const where = path.filter((step) => typeof step === "string").join(".");
  const shapes: Record<string, readonly string[]> = {
    "": Object.keys(studyFields),
    commits: Object.keys(commitMapping.shape),
    temperature_limit: Object.keys(temperatureMapping.shape),
    stages: Object.keys(stage.shape),
  };
  return shapes[where] ?? [];
}
