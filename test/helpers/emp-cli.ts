// Runs the emp CLI as a user would: the compiled dist/cli/main.js in a child process. The build
// runs once per test run, in the global setup (test/setup/build-fixtures.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const main = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Compiles src/ to dist/ with the project's own TypeScript, as `npm install` (prepare) does. */
export function buildCli(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repo, stdio: "pipe" });
}

export interface CliResult {
  status: number | null;
  /** The signal that ended it (SIGABRT for a C++ abort), null when it exited. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ROOT_VARIABLES = ["EMP_SYSFS_ROOT", "EMP_DEV_ROOT", "EMP_PROCFS_ROOT", "EMP_NVML_LIB", "EMP_DEBUG"];

/** Runs `emp ...args` with emp's root variables cleared, then set from `env`. */
export function runEmp(args: string[], env: Record<string, string> = {}): CliResult {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ROOT_VARIABLES) delete childEnv[key];
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: repo,
    env: { ...childEnv, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}
