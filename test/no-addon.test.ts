// emp report, emp plot and emp history where the native addon cannot load (results copied to a
// laptop, another OS, no build): a copy of emp whose build/ holds no addon reads a study that the
// real emp measured, and `emp --help` works there too; measuring says what is missing.
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addonLoadError } from "../src/native.js";
import { runEmp } from "./helpers/emp-cli.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
let scratch: string;
let copy: string;
let study: string;

/** Runs `emp ...args` from the copy without an addon. */
function runCopy(args: string[]) {
  const result = spawnSync(process.execPath, [join(copy, "dist", "cli", "main.js"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-no-addon-"));
  // emp as installed, less its addon: dist, package.json, the dependencies.
  copy = join(scratch, "emp");
  mkdirSync(copy);
  cpSync(join(repoRoot, "dist"), join(copy, "dist"), { recursive: true });
  cpSync(join(repoRoot, "package.json"), join(copy, "package.json"));
  symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"));
  expect(existsSync(join(copy, "build"))).toBe(false);

  const repo = join(scratch, "repo");
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  git("init", "-q", "-b", "main");
  for (const n of [1, 2])
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", `c${n}`);
  study = join(scratch, "study");
  const config = join(scratch, "study.yaml");
  writeFileSync(
    config,
    [
      `repo: ${repo}`,
      "commits: { last: 2 }",
      'command: "true"',
      "repeat: 3",
      "warmup: 0",
      "baseline: 0.2",
      `out: ${study}`,
    ].join("\n"),
  );
  const measured = runEmp(["run", config, "--json"]);
  expect(measured.status, measured.stderr).toBe(0);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("without the native addon", () => {
  it("emp --help and --version work", () => {
    expect(runCopy(["--help"]).stdout).toMatch(/Commands:\n\s+probe/);
    expect(runCopy(["--version"]).stdout.trim()).toBe(
      JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version,
    );
  });

  it("emp report, emp plot and emp history read a study", () => {
    const report = runCopy(["report", "--json", study]);
    expect(report.status, report.stderr).toBe(0);
    expect((JSON.parse(report.stdout) as { groups: unknown[] }).groups).toHaveLength(2);
    const svg = join(scratch, "plot.svg");
    const plot = runCopy(["plot", study, "-o", svg]);
    expect(plot.status, plot.stderr).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg/);
    const history = runCopy(["history", "--json", study]);
    expect(history.status, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/"sessions"/);
  });

  it("measuring says the addon is missing and how to build it: exit 1, no stack trace", () => {
    const result = runCopy([
      "measure",
      "--baseline",
      "0.1",
      "--repeat",
      "1",
      "--out",
      join(scratch, "m"),
      "--",
      "true",
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^emp: the emp native addon could not be loaded: /);
    expect(result.stderr).toMatch(/fix: run `npm install`/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("where emp cannot measure (not Linux)", () => {
  it("the install builds nothing, succeeds, and says what works", () => {
    const dir = mkdtempSync(join(tmpdir(), "emp-install-"));
    try {
      const result = spawnSync(process.execPath, [join(repoRoot, "scripts", "install-addon.mjs")], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, EMP_INSTALL_PLATFORM: "darwin" },
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /not built on darwin: measuring .* needs Linux; emp report, emp plot and emp history work here/,
      );
      expect(existsSync(join(dir, "build"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the addon's load error says measuring needs Linux there, and names the build on Linux", () => {
    const cause = new Error("Cannot find module '../build/Release/emp.node'");
    const elsewhere = addonLoadError(cause, "darwin");
    expect(elsewhere.message).toBe("measuring needs Linux: the emp native addon is not built on darwin");
    expect(elsewhere.suggestion).toMatch(/emp report, emp plot and emp history work here/);
    const linux = addonLoadError(cause, "linux");
    expect(linux.message).toMatch(/could not be loaded: Cannot find module/);
    expect(linux.suggestion).toMatch(/npm install/);
  });
});
