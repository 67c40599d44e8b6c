// Checks (or with --fix, applies) clang-format on every C/C++ file under native/, test/ and bench/.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const fix = process.argv.includes("--fix");
const binary = join(root, "node_modules", ".bin", "clang-format");

function cppFiles(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(cc|h|c)$/.test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

const files = [...cppFiles("native"), ...cppFiles("test"), ...cppFiles("bench")];
const args = fix ? ["-i", ...files] : ["--dry-run", "--Werror", ...files];
try {
  execFileSync(binary, args, { stdio: "inherit" });
} catch {
  console.error("C++ formatting differs from .clang-format: run `npm run format`");
  process.exit(1);
}
