// A study's own stages: `stages: [{ module: ./my-stage.js, group: run, options: {...} }]`. The
// module's default export is a factory `(options, { group }) => Stage`; what it returns is checked
// here so that a malformed module is one clear message naming it, not a crash mid-session.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { CustomStageSpec, StageGroup } from "../config/study.js";
import { UsageError } from "../errors.js";
import type { Stage } from "./stage.js";

const stageShape = z.object({
  name: z.string().min(1, "a non-empty string"),
  group: z.enum(["pre", "prepare", "run", "post"]).optional(),
  execute: z.custom<(context: unknown) => unknown>((value) => typeof value === "function", "a function"),
});

export type StageFactory = (
  options: Record<string, unknown>,
  info: { group: StageGroup },
) => Stage | Promise<Stage>;

function malformed(spec: CustomStageSpec, what: string): UsageError {
  return new UsageError(`stage module ${spec.module}: ${what}`, {
    suggestion:
      "export a factory as default: `export default (options) => ({ name: 'my-stage', execute(context) { ... } })`",
    path: spec.module,
  });
}

/** Imports and builds one custom stage; `taken` holds names already used (built-ins, other stages). */
export async function loadCustomStage(spec: CustomStageSpec, taken: ReadonlySet<string>): Promise<Stage> {
  if (!existsSync(spec.module)) {
    throw new UsageError(`stage module not found: ${spec.module}`, {
      suggestion: "fix the `module` path in `stages` (it is relative to the config file)",
      path: spec.module,
    });
  }
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(spec.module).href);
  } catch (error) {
    throw malformed(spec, `cannot be loaded: ${(error as Error).message}`);
  }
  if (typeof module.default !== "function") throw malformed(spec, "its default export is not a function");
  let made: unknown;
  try {
    made = await (module.default as StageFactory)(spec.options, { group: spec.group });
  } catch (error) {
    throw malformed(spec, `its factory threw: ${(error as Error).message}`);
  }
  const parsed = stageShape.safeParse(made);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "the stage"} must be ${i.message}`);
    throw malformed(spec, `its factory returned something that is not a stage (${issues.join("; ")})`);
  }
  const stage = parsed.data;
  if (stage.group !== undefined && stage.group !== spec.group) {
    throw malformed(spec, `the stage says group ${stage.group} but the config puts it in ${spec.group}`);
  }
  if (taken.has(stage.name)) throw malformed(spec, `a stage named ${stage.name} already exists; rename it`);
  const execute = stage.execute.bind(made);
  return { name: stage.name, group: spec.group, execute } as Stage;
}
