// Reads a study config file (YAML, or JSON, which the YAML parser reads too) and keeps its line
// numbers, so that each problem points at the line to edit.
import { readFileSync } from "node:fs";
import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { EmpError, UsageError } from "../errors.js";
import { type KeyLocator, type ResolvedStudy, resolveStudy, type StudyFlags } from "./resolve.js";

/** Reads and validates a config file: UsageError (exit 2) naming file, key path, line and the fix. */
export function loadStudy(path: string, flags: StudyFlags = {}): ResolvedStudy {
  const { raw, locate } = readStudyFile(path);
  return resolveStudy(raw, { configPath: path, locate }, flags);
}

/** The file's content as plain data, and where each key sits in its text. */
export function readStudyFile(path: string): { raw: unknown; locate: KeyLocator } {
  const text = readText(path);
  const lines = new LineCounter();
  // One parser for both formats: JSON is YAML, and duplicate keys are an error in either.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const at = lines.linePos(error.pos[0]);
    throw new UsageError(`${path}:${at.line}:${at.col}: not valid YAML: ${error.message}`, {
      suggestion: "fix the syntax there (indentation, a missing colon or quote, a tab)",
    });
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (cause) {
    throw new UsageError(`${path}: not valid YAML: ${(cause as Error).message}`, {
      suggestion: "fix the anchors and aliases (*name) in it",
    });
  }
  return { raw, locate: (keyPath) => locateIn(doc.contents, keyPath, lines) };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new UsageError(`config file not found: ${path}`, {
        suggestion: `check the path, or write a starter config there with \`emp init ${path}\``,
      });
    }
    if (code === "EISDIR") {
      throw new UsageError(`${path} is a folder, not a config file`, {
        suggestion: "name the YAML or JSON file of the study",
      });
    }
    throw new EmpError("E_IO", `cannot read ${path}: ${(cause as Error).message}`, { path, cause });
  }
}

/** Walks `keyPath` down the parsed document; the line of the deepest key found on the way. */
function locateIn(root: unknown, keyPath: readonly PropertyKey[], lines: LineCounter): number | undefined {
  let node = root;
  let line: number | undefined;
  const lineOf = (n: unknown) => {
    const range = (n as Node | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  for (const step of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => String((item.key as { value?: unknown })?.value) === String(step),
      );
      if (!pair) break;
      line = lineOf(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof step === "number" && node.items[step] !== undefined) {
      node = node.items[step];
      line = lineOf(node) ?? line;
    } else {
      break;
    }
  }
  return line;
}
