// Options of several words (hyperfine's --parameter-scan NAME LO HI, --work N UNIT): commander's
// options take one value each, so the words are joined into one argument before parsing. Light: the
// program runs this on every command line.
import { UsageError } from "../errors.js";

/** Separates the words of a multi-word option inside the one argument commander sees (argv cannot hold NUL). */
export const WORD = "\u0000";

const MULTI_WORD: Record<string, { words: number; example: string }> = {
  "--parameter-scan": { words: 3, example: "--parameter-scan threads 1 8" },
  "--parameter-list": { words: 2, example: "--parameter-list level 1,6,9" },
  "--work": { words: 2, example: "--work 256 MB" },
};

/** `args` with each multi-word option's words joined into one argument, up to `--` (after it they are the command's). */
export function joinMultiWordOptions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const spec = MULTI_WORD[arg];
    if (spec === undefined) {
      out.push(arg);
      continue;
    }
    const values = args.slice(i + 1, i + 1 + spec.words);
    if (values.length < spec.words || values.some((v) => v.startsWith("--"))) {
      throw new UsageError(`${arg} takes ${spec.words === 3 ? "three" : "two"} values`, {
        suggestion: `for example ${spec.example}`,
      });
    }
    out.push(arg, values.join(WORD));
    i += spec.words;
  }
  return out;
}
