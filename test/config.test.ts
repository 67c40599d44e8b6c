// The study config: every commits form, durations, defaults under flags, where values came from,
// paths against the config's folder, the hashes, and errors that name file, key path and line.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDurationS } from "../src/config/duration.js";
import { loadStudy } from "../src/config/load.js";
import { type ResolvedStudy, resolveStudy, type StudyFlags, toStudyFile } from "../src/config/resolve.js";
import { STARTER_CONFIG } from "../src/config/starter.js";
import { STUDY_DEFAULTS, studyFields } from "../src/config/study.js";
import { UsageError } from "../src/errors.js";

let scratch: string;
let configPath: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-config-"));
  mkdirSync(join(scratch, "studies"));
  configPath = join(scratch, "studies", "study.yaml");
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const minimal = { commits: "HEAD", command: "./bench" };

function resolveRaw(raw: Record<string, unknown>, flags?: StudyFlags): ResolvedStudy {
  return resolveStudy(raw, { configPath }, flags);
}

/** Writes `text` as a config file and loads it. */
function load(text: string, name = "study.yaml", flags?: StudyFlags): ResolvedStudy {
  const path = join(scratch, "studies", name);
  writeFileSync(path, text);
  return loadStudy(path, flags);
}

/** The UsageError that `run` throws. */
function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("parseDurationS", () => {
  const cases: Array<[number | string, number]> = [
    ["500ms", 0.5],
    ["9ms", 0.009],
    ["5s", 5],
    ["2m", 120],
    ["1h", 3600],
    ["1.5h", 5400],
    ["30", 30],
    [" 2 m ", 120],
    [3, 3],
    [0, 0],
    [0.25, 0.25],
  ];
  for (const [value, seconds] of cases) {
    it(`${JSON.stringify(value)} is ${seconds} s`, () => expect(parseDurationS(value)).toBe(seconds));
  }
  for (const value of ["5x", "", "m", "-1s", "1e3s", "5 minutes", -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`${String(value)} is a UsageError naming the forms`, () => {
      const error = usageError(() => parseDurationS(value));
      expect(error.exitCode).toBe(2);
      expect(error.suggestion).toMatch(/500ms/);
    });
  }
});

describe("commits: every form normalises to one CommitSelection", () => {
  const cases: Array<[string, unknown, unknown]> = [
    ["a list of refs", ["v1.0", "abc123", "HEAD~2"], { refs: ["v1.0", "abc123", "HEAD~2"] }],
    ["a single ref", "HEAD~2", { refs: ["HEAD~2"] }],
    ["a range string", "v1.0..HEAD", { range: "v1.0..HEAD" }],
    ["last N", { last: 5 }, { last: 5, ref: "HEAD" }],
    ["last N of a ref", { last: 3, ref: "main" }, { last: 3, ref: "main" }],
    ["a range mapping", { range: "a..b" }, { range: "a..b" }],
    ["tags by glob", { tags: "v*" }, { tags: "v*" }],
    ["every tag", { tags: true }, { tags: "*" }],
  ];
  for (const [name, commits, selection] of cases) {
    it(name, () => expect(resolveRaw({ ...minimal, commits }).config.commits).toEqual(selection));
  }

  const bad: Array<[string, unknown, RegExp]> = [
    ["an empty list", [], /commits: must list at least one ref/],
    [
      "two forms at once",
      { last: 2, tags: "v*" },
      /commits: must hold one of last, range or tags, not last and tags/,
    ],
    ["no form", { ref: "main" }, /commits: must hold one of last: N/],
    ["ref without last", { range: "a..b", ref: "main" }, /commits\.ref: goes with last: N only/],
    ["a range without ..", { range: "main" }, /commits\.range: must be a range A\.\.B; got "main"/],
    ["zero commits", { last: 0 }, /commits\.last: must be a whole number of commits, at least 1; got 0/],
    ["an unquoted numeric sha", [1234567], /commits\[0\]: must be a git ref \(quote one of only digits/],
    ["tags: false", { tags: false }, /commits\.tags: must be a glob \("v\*"\) or true/],
    ["a misspelt form", { lats: 5 }, /commits\.lats: unknown key; did you mean `last`\?/],
    ["a number", 5, /commits: must be a ref \(HEAD\)/],
  ];
  for (const [name, commits, message] of bad) {
    it(`${name} is an error naming the key`, () => {
      expect(usageError(() => resolveRaw({ ...minimal, commits })).message).toMatch(message);
    });
  }
});

describe("values, defaults and flags", () => {
  it("fills every default and says so", () => {
    const { config, origins } = resolveRaw(minimal);
    expect(config).toMatchObject({
      paths: [],
      env: {},
      repeat: 10,
      warmup: 1,
      warmupPolicy: "every-visit",
      batchSize: 1,
      jobs: 1,
      seed: 1,
      order: "interleaved",
      baselineS: 5,
      cooldownS: 0,
      sampleHz: 1000,
      stages: [],
    });
    expect(config.timeoutS).toBeUndefined();
    expect(config.sources).toBeUndefined();
    expect(origins.repeat).toBe("default");
    expect(origins.commits).toBe("file");
    expect(origins.command).toBe("file");
  });

  it("reads every key, durations in seconds", () => {
    const { config } = resolveRaw({
      ...minimal,
      paths: ["src/"],
      build: "make",
      setup: "./setup.sh",
      post_command: "rm -rf /tmp/x",
      command: ["./bench", "--quick"],
      env: { OMP_NUM_THREADS: "4" },
      repeat: 20,
      warmup: 0,
      batch_size: 2,
      jobs: 4,
      seed: 7,
      order: "shuffled",
      baseline: "500ms",
      cooldown: "2m",
      timeout: "1h",
      build_timeout: 90,
      temperature_limit: { max_c: 70, max_wait: "2m" },
      sample_hz: 250,
      sources: ["powercap"],
      counters: ["cycles", "instructions"],
      tdp: 65,
    });
    expect(config).toMatchObject({
      paths: ["src/"],
      build: "make",
      setup: "./setup.sh",
      postCommand: "rm -rf /tmp/x",
      command: ["./bench", "--quick"],
      env: { OMP_NUM_THREADS: "4" },
      repeat: 20,
      warmup: 0,
      batchSize: 2,
      jobs: 4,
      seed: 7,
      order: "shuffled",
      baselineS: 0.5,
      cooldownS: 120,
      timeoutS: 3600,
      buildTimeoutS: 90,
      temperatureLimit: { maxC: 70, maxWaitS: 120 },
      sampleHz: 250,
      sources: ["powercap"],
      counters: ["cycles", "instructions"],
      tdpW: 65,
    });
  });

  it("takes a bare temperature_limit as max_c, waiting the default", () => {
    expect(resolveRaw({ ...minimal, temperature_limit: 80 }).config.temperatureLimit).toEqual({
      maxC: 80,
      maxWaitS: STUDY_DEFAULTS.temperatureMaxWaitS,
    });
  });

  it("reads `key:` with nothing after it as not set", () => {
    const { config, origins } = load("commits: HEAD\ncommand: ./bench\nrepeat:\nbuild:\n");
    expect(config.repeat).toBe(10);
    expect(origins.repeat).toBe("default");
    expect(config.build).toBeUndefined();
  });

  it("lets flags override the file, and records where each value came from", () => {
    const { config, origins } = resolveRaw(
      { ...minimal, repeat: 5, warmup: 2, order: "grouped", baseline: "10s" },
      { repeat: 3, sampleHz: 500, order: "shuffled", timeoutS: 60, sources: ["msr"] },
    );
    expect(config.repeat).toBe(3);
    expect(origins.repeat).toBe("flag");
    expect(config.warmup).toBe(2);
    expect(origins.warmup).toBe("file");
    expect(config.order).toBe("shuffled");
    expect(origins.order).toBe("flag");
    expect(config.baselineS).toBe(10);
    expect(origins.baselineS).toBe("file");
    expect(config.sampleHz).toBe(500);
    expect(origins.sampleHz).toBe("flag");
    expect(config.timeoutS).toBe(60);
    expect(config.sources).toEqual(["msr"]);
    expect(origins.seed).toBe("default");
  });

  it("checks flags by the rule of their key and names the flag", () => {
    const message = usageError(() =>
      resolveRaw(minimal, { repeat: 0, order: "random", baselineS: -1 }),
    ).message;
    expect(message).toMatch(/--repeat: must be a whole number of measured runs, from 1 to 1000000; got 0/);
    expect(message).toMatch(/--order: must be one of interleaved, shuffled, grouped; got "random"/);
    expect(message).toMatch(/--baseline: must be a duration above 0/);
  });

  it("reads warmup_policy, and names the allowed values of a bad one", () => {
    expect(resolveRaw({ ...minimal, warmup_policy: "first-visit" }).config.warmupPolicy).toBe("first-visit");
    const message = usageError(() => load("commits: HEAD\ncommand: x\nwarmup_policy: once\n")).message;
    expect(message).toBe(
      `${join(scratch, "studies", "study.yaml")}:3: warmup_policy: must be one of every-visit, first-visit; got "once"`,
    );
  });

  it("does not share the default lists between studies", () => {
    resolveRaw(minimal).config.paths.push("src/");
    expect(resolveRaw(minimal).config.paths).toEqual([]);
  });
});

describe("paths", () => {
  it("resolves repo, stage modules and out against the config's folder", () => {
    const {
      config,
      configPath: path,
      configDir,
    } = resolveRaw({
      ...minimal,
      repo: "../project",
      stages: [{ module: "./stages/fans.mjs", group: "pre" }],
      out: "results",
    });
    expect(path).toBe(configPath);
    expect(configDir).toBe(join(scratch, "studies"));
    expect(config.repo).toBe(join(scratch, "project"));
    expect(config.stages).toEqual([
      { module: join(scratch, "studies", "stages", "fans.mjs"), group: "pre", options: {} },
    ]);
    expect(config.out).toBe(join(scratch, "studies", "results"));
  });

  it("defaults repo to the config's folder and out to emp-results/<name> in the current folder", () => {
    const { config } = resolveRaw(minimal);
    expect(config.repo).toBe(join(scratch, "studies"));
    expect(config.out).toBe(join(process.cwd(), "emp-results", "study"));
  });

  it("takes --out relative to the current folder", () => {
    const { config, origins } = resolveRaw({ ...minimal, out: "results" }, { out: "elsewhere" });
    expect(config.out).toBe(join(process.cwd(), "elsewhere"));
    expect(origins.out).toBe("flag");
  });

  for (const url of [
    "https://github.com/o/r.git",
    "git@github.com:o/r.git",
    "ssh://host/r",
    "file:///srv/r",
  ]) {
    it(`keeps the URL ${url} as it is`, () =>
      expect(resolveRaw({ ...minimal, repo: url }).config.repo).toBe(url));
  }
});

describe("hashes", () => {
  const base = `commits: { last: 3 }
command: ./bench --quick
build: make
env:
  A: "1"
  B: "2"
repeat: 10
sample_hz: 1000
`;
  const reordered = `sample_hz: 1000
env:
  B: "2"
  A: "1"
repeat: 10
build: make
command: ./bench --quick
commits: { last: 3 }
`;

  it("is a sha256 that does not depend on key order", () => {
    const a = load(base, "a.yaml");
    const b = load(reordered, "b.yaml");
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(b.prepareHash).toBe(a.prepareHash);
  });

  it("changes with the command, not with repeat, order, cooldown or post_command", () => {
    const a = load(base, "a.yaml");
    expect(load(base.replace("--quick", "--full"), "b.yaml").hash).not.toBe(a.hash);
    expect(load(base.replace("--quick", "--full"), "b.yaml").prepareHash).toBe(a.prepareHash);
    const more = load(
      `${base.replace("repeat: 10", "repeat: 30")}order: grouped\ncooldown: 5s\npost_command: sync\n`,
    );
    expect(more.hash).toBe(a.hash);
    expect(more.prepareHash).toBe(a.prepareHash);
    // Warmups are not measured values, whichever visits they precede (as `warmup` itself).
    expect(load(`${base}warmup: 3\nwarmup_policy: first-visit\n`).hash).toBe(a.hash);
  });

  it("changes with build, env, sample rate, sources and counters; prepareHash with build and env only", () => {
    const a = resolveRaw({ ...minimal, build: "make" });
    const otherBuild = resolveRaw({ ...minimal, build: "make -O3" });
    expect(otherBuild.hash).not.toBe(a.hash);
    expect(otherBuild.prepareHash).not.toBe(a.prepareHash);
    expect(resolveRaw({ ...minimal, build: "make", env: { X: "1" } }).prepareHash).not.toBe(a.prepareHash);
    const rate = resolveRaw({ ...minimal, build: "make", sample_hz: 100 });
    expect(rate.hash).not.toBe(a.hash);
    expect(rate.prepareHash).toBe(a.prepareHash);
    expect(resolveRaw({ ...minimal, build: "make", counters: ["cycles"] }).hash).not.toBe(a.hash);
    expect(resolveRaw({ ...minimal, build: "make", sources: ["msr"] }).hash).not.toBe(a.hash);
  });

  it("changes with min_run_ms (a run then measures several iterations), which a flag sets too", () => {
    const a = resolveRaw(minimal);
    const iterated = resolveRaw({ ...minimal, min_run_ms: 100 });
    expect(iterated.config.minRunMs).toBe(100);
    expect(iterated.hash).not.toBe(a.hash);
    expect(iterated.prepareHash).toBe(a.prepareHash);
    expect(resolveRaw({ ...minimal, min_run_ms: 200 }).hash).not.toBe(iterated.hash);
    const flagged = resolveRaw(minimal, { minRunMs: 100 });
    expect([flagged.hash, flagged.origins.minRunMs]).toEqual([iterated.hash, "flag"]);
    expect(usageError(() => resolveRaw({ ...minimal, min_run_ms: 0 })).message).toMatch(
      /min_run_ms: must be milliseconds a run lasts at least, above 0 and at most 86400000 \(a day\); got 0/,
    );
  });

  it("takes sources and counters as sets", () => {
    expect(resolveRaw({ ...minimal, counters: ["cycles", "instructions"] }).hash).toBe(
      resolveRaw({ ...minimal, counters: ["instructions", "cycles"] }).hash,
    );
  });

  it("round-trips through toStudyFile: same config, same hashes", () => {
    const first = resolveRaw({
      ...minimal,
      commits: ["v1", "v2"],
      repo: "../project",
      temperature_limit: { max_c: 70, max_wait: "1m" },
      stages: [{ module: "s.mjs", group: "run", options: { n: 1 } }],
      baseline: "500ms",
    });
    const again = resolveRaw(JSON.parse(JSON.stringify(toStudyFile(first.config))));
    expect(again.config).toEqual(first.config);
    expect(again.hash).toBe(first.hash);
    expect(again.prepareHash).toBe(first.prepareHash);
  });
});

describe("errors for a person", () => {
  it("names file, key path and line, in the file's order", () => {
    const text = [
      "commits: HEAD", // 1
      "command: ./bench", // 2
      "stages:", // 3
      "  - module: a.mjs", // 4
      "    group: pre", // 5
      "  - module: b.mjs", // 6
      "    group: build", // 7
      "repet: 5", // 8
      "sample_hz: 0", // 9
      "env:", // 10
      "  THREADS: 4", // 11
    ].join("\n");
    const error = usageError(() => load(text));
    expect(error.exitCode).toBe(2);
    const file = join(scratch, "studies", "study.yaml");
    expect(error.message.split("\n")).toEqual([
      `${file}:7: stages[1].group: must be one of pre, prepare, run, post; got "build"`,
      `${file}:8: repet: unknown key; did you mean \`repeat\`?`,
      `${file}:9: sample_hz: must be a rate in Hz, above 0 and at most 100000; got 0`,
      `${file}:11: env.THREADS: must be a string: quote numbers and booleans ("4"); got 4`,
    ]);
    expect(error.suggestion).toMatch(/emp init/);
  });

  it("suggests the snake_case key for a camelCase one", () => {
    expect(usageError(() => load("commits: HEAD\ncommand: x\nbatchSize: 2\n")).message).toMatch(
      /:3: batchSize: unknown key; did you mean `batch_size`\?/,
    );
  });

  it("says a required key is missing", () => {
    expect(usageError(() => load("commits: HEAD\n")).message).toMatch(
      /study\.yaml: command: missing: must be/,
    );
  });

  it("points at the line inside a JSON file too", () => {
    const json = '{\n  "commits": "HEAD",\n  "command": "./bench",\n  "warmup": -1\n}\n';
    expect(usageError(() => load(json, "study.json")).message).toMatch(
      /study\.json:4: warmup: must be a whole number of runs, from 0 to 1000000; got -1/,
    );
    expect(load(json.replace("-1", "2"), "study.json").config.warmup).toBe(2);
  });

  it("gives line and column of malformed YAML", () => {
    const error = usageError(() => load("commits: HEAD\ncommand: [./bench\nrepeat: 3\n"));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/study\.yaml:\d+:\d+: not valid YAML: /);
  });

  it("reports a duplicate key with its line", () => {
    expect(usageError(() => load("commits: HEAD\ncommand: a\ncommand: b\n")).message).toMatch(
      /study\.yaml:3:1: not valid YAML: Map keys must be unique/,
    );
  });

  it("says how to get a config when the file is missing, empty or not a mapping", () => {
    const missing = usageError(() => loadStudy(join(scratch, "nope.yaml")));
    expect(missing.message).toMatch(/config file not found: .*nope\.yaml/);
    expect(missing.suggestion).toMatch(/emp init .*nope\.yaml/);
    expect(usageError(() => load("")).message).toMatch(/study\.yaml is empty/);
    expect(usageError(() => load("- a\n- b\n")).message).toMatch(/must be a mapping of keys/);
  });
});

describe("the starter config", () => {
  it("loads without error", () => {
    const { config } = load(STARTER_CONFIG, "starter.yaml");
    expect(config.commits).toEqual({ last: 5, ref: "HEAD" });
  });

  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const key of Object.keys(studyFields)) {
    it(`explains ${key}, and so does the README's table`, () => {
      expect(STARTER_CONFIG).toMatch(new RegExp(`^(# )?${key}:`, "m"));
      expect(readme).toMatch(new RegExp(`^\\| \`${key}\``, "m"));
    });
  }
});
