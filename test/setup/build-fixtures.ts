// Vitest global setup: compiles the native test fixtures (the fake libnvidia-ml, hold-flag) and emp's own
// TypeScript into dist/ before any test runs, so `npm test` works on a fresh checkout with nothing
// but a C compiler, and the CLI the tests run is never older than the sources. Once per run: each
// compile takes about 10 s here, and a dozen test files run the CLI.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { HOLD_FLAG, HOLD_FLAG_SOURCE } from "../fixtures/energy.js";
import { FAKE_NVML_LIB, FAKE_NVML_SOURCE } from "../fixtures/nvml.js";
import { buildCli } from "../helpers/emp-cli.js";

export default function setup(): void {
  mkdirSync(dirname(FAKE_NVML_LIB), { recursive: true });
  // -fvisibility=hidden with explicit exports: the fake offers exactly the symbols it defines.
  execFileSync(
    process.env.CC ?? "cc",
    [
      "-shared",
      "-fPIC",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-fvisibility=hidden",
      "-o",
      FAKE_NVML_LIB,
      FAKE_NVML_SOURCE,
    ],
    { stdio: "inherit" },
  );
  execFileSync(
    process.env.CC ?? "cc",
    ["-O2", "-Wall", "-Wextra", "-Werror", "-o", HOLD_FLAG, HOLD_FLAG_SOURCE],
    { stdio: "inherit" },
  );
  buildCli();
}
