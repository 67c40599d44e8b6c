// hyperfine's parameters for emp compare: `--parameter-scan NAME LO HI` (with --parameter-step) and
// `--parameter-list NAME a,b,c` turn each command template into one command per value, `{NAME}`
// replaced in the command and in its -n name. Several lists combine (every combination).
import { UsageError } from "../errors.js";

export interface ParameterScan {
  name: string;
  lo: number;
  hi: number;
  /** Default 1. */
  step?: number;
}

export interface ParameterList {
  name: string;
  values: string[];
}

/** A command as given: its template and, where -n gave one, its name's template. */
export interface CommandTemplate {
  command: string;
  name?: string;
}

export interface ExpandedCommand {
  name: string;
  command: string;
  /** Which template it came from, in the order given. */
  template: number;
  /** The parameters' values it was made with. */
  values: Record<string, string>;
}

/** Most values one scan may give: more is a typo in LO, HI or the step, not a comparison. */
const MAX_SCAN_VALUES = 10_000;

const FIX = "see `emp compare --help`";

/** The values of a scan, LO to HI inclusive by step, without the float drift of repeated additions. */
export function scanValues(scan: ParameterScan): string[] {
  const step = scan.step ?? 1;
  if (!(step > 0))
    throw new UsageError(`--parameter-step takes a number above 0, got ${step}`, { suggestion: FIX });
  if (scan.lo > scan.hi) {
    throw new UsageError(`--parameter-scan ${scan.name} ${scan.lo} ${scan.hi}: LO is above HI`, {
      suggestion: `give the lower bound first: --parameter-scan ${scan.name} ${scan.hi} ${scan.lo}`,
    });
  }
  const count = Math.floor((scan.hi - scan.lo) / step + 1e-9) + 1;
  if (count > MAX_SCAN_VALUES) {
    throw new UsageError(`--parameter-scan ${scan.name} would give ${count} commands`, {
      suggestion: `use a larger --parameter-step (at most ${MAX_SCAN_VALUES} values)`,
    });
  }
  // Decimals of the step, so 0.1 steps print as 0.3, not 0.30000000000000004.
  const decimals = (String(step).split(".")[1] ?? "").length;
  return Array.from({ length: count }, (_, i) => {
    const value = scan.lo + i * step;
    return decimals === 0 ? String(Math.round(value)) : value.toFixed(decimals);
  });
}

/**
 * Each template once per combination of the parameters' values, in order (the first parameter
 * varying slowest). A template without `{NAME}` of a parameter that is given is a mistake: all its
 * commands would be the same.
 */
export function expandCommands(
  templates: readonly CommandTemplate[],
  scan: ParameterScan | undefined,
  lists: readonly ParameterList[],
): ExpandedCommand[] {
  const parameters: ParameterList[] = [
    ...(scan ? [{ name: scan.name, values: scanValues(scan) }] : []),
    ...lists,
  ];
  const names = new Set<string>();
  for (const p of parameters) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) {
      throw new UsageError(`parameter name '${p.name}': use letters, digits and _`, { suggestion: FIX });
    }
    if (names.has(p.name)) throw new UsageError(`parameter '${p.name}' is given twice`, { suggestion: FIX });
    names.add(p.name);
    if (p.values.length === 0) {
      throw new UsageError(`--parameter-list ${p.name} has no values`, {
        suggestion: "give them comma-separated: a,b,c",
      });
    }
    if (!templates.some((t) => t.command.includes(`{${p.name}}`))) {
      throw new UsageError(`no command uses the parameter {${p.name}}`, {
        suggestion: `write {${p.name}} where its value goes, e.g. 'sleep {${p.name}}'`,
      });
    }
  }
  let combinations: Record<string, string>[] = [{}];
  for (const p of parameters) {
    combinations = combinations.flatMap((c) => p.values.map((v) => ({ ...c, [p.name]: v })));
  }
  return templates.flatMap((t, template) =>
    combinations.map((values) => {
      const command = fill(t.command, values);
      return { command, name: t.name === undefined ? command : fill(t.name, values), template, values };
    }),
  );
}

/** `template` with each `{NAME}` of `values` replaced by its value; other braces are left as they are. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => values[name] ?? whole);
}
