// `emp init` as a user runs it: writes the starter (which loads), names the next step, refuses to
// overwrite a file without --force, and overwrites it with.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStudy } from "../src/config/load.js";
import { STARTER_CONFIG } from "../src/config/starter.js";
import { runEmp } from "./helpers/emp-cli.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-init-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("emp init", () => {
  it("writes the starter, which loads, and prints the next step", () => {
    const file = join(scratch, "study.yaml");
    const result = runEmp(["init", file]);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(STARTER_CONFIG);
    expect(result.stdout).toContain(`emp run ${file}`);
    const study = loadStudy(file);
    expect(study.config.command).toBe("./bench --quick");
    expect(study.config.out).toBe(join(process.cwd(), "emp-results", "study"));
  });

  it("writes emp.yaml in the current folder when no file is named", () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    const result = spawnSync(process.execPath, [main, "init"], { cwd, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(cwd, "emp.yaml"))).toBe(true);
    expect(result.stdout).toContain("emp run emp.yaml");
  });

  it("refuses to overwrite an existing file: exit 2, the fix, the file unchanged", () => {
    const file = join(scratch, "mine.yaml");
    writeFileSync(file, "# my study\n");
    const result = runEmp(["init", file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/mine\.yaml already exists/);
    expect(result.stderr).toMatch(/fix: .*--force/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
    expect(readFileSync(file, "utf8")).toBe("# my study\n");
  });

  it("overwrites with --force", () => {
    const file = join(scratch, "forced.yaml");
    writeFileSync(file, "# old\n");
    const result = runEmp(["init", file, "--force"]);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(STARTER_CONFIG);
  });

  it("refuses a .json name, since the starter is commented YAML", () => {
    const result = runEmp(["init", join(scratch, "study.json")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/fix: name it \.yaml/);
    expect(existsSync(join(scratch, "study.json"))).toBe(false);
  });

  it("says so when the folder does not exist", () => {
    const result = runEmp(["init", join(scratch, "no", "such", "study.yaml")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/its folder does not exist/);
  });
});
