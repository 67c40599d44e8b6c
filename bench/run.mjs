// `npm run bench`: runs every bench/*.bench.mjs in turn, passing the arguments through.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
let failed = 0;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .sort()) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, [`${dir}${file}`, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
