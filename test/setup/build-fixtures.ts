// Vitest global setup: compiles the native test fixtures (the fake libnvidia-ml) before any test
// runs, so `npm test` works on a fresh checkout with nothing but a C compiler.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FAKE_NVML_LIB, FAKE_NVML_SOURCE } from "../fixtures/nvml.js";

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
}
