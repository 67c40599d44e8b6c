// `npm install`'s build of the native addon: node-gyp on Linux, where emp measures; elsewhere
// nothing to build (the sampler reads Linux interfaces: powercap, MSR, perf_event_open), so the
// install succeeds and says that emp report, emp plot and emp history work here without it.
// EMP_INSTALL_PLATFORM stands in for process.platform, for the test of that path.
import { spawnSync } from "node:child_process";

const platform = process.env.EMP_INSTALL_PLATFORM || process.platform;
if (platform !== "linux") {
  process.stdout.write(
    `emp: the native addon is not built on ${platform}: measuring (emp probe, measure, compare, run) needs Linux; ` +
      "emp report, emp plot and emp history work here on results copied from a Linux machine\n",
  );
  process.exit(0);
}
// npm runs install scripts with its own node-gyp: named by npm_config_node_gyp, and on the PATH.
const bundled = process.env.npm_config_node_gyp;
const result = bundled
  ? spawnSync(process.execPath, [bundled, "rebuild"], { stdio: "inherit" })
  : spawnSync("node-gyp", ["rebuild"], { stdio: "inherit" });
if (result.error) process.stderr.write(`emp: cannot run node-gyp: ${result.error.message}\n`);
process.exit(result.status ?? 1);
