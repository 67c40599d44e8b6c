import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Compiles the fake libnvidia-ml (and any other native fixture) once before the tests.
    globalSetup: ["test/setup/build-fixtures.ts"],
    // Sampler tests measure time; running files in parallel on a 2-core machine makes them noisy.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
