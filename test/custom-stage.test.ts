// Custom stages from a study's own files: a well-formed module becomes a stage of its group; every
// kind of malformed module is one UsageError (exit 2) that names the module.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.js";
import { loadCustomStage } from "../src/pipeline/custom-stage.js";
import { buildPipeline, builtinStages } from "../src/pipeline/registry.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "emp-stage-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadCustomStage", () => {
  it("builds the stage from the default factory with the config's options", async () => {
    const path = module(
      "good.mjs",
      "export default (options, info) => ({ name: 'note-' + options.tag, group: info.group, seen: [], execute(context) { this.seen.push(context.x); return options.tag; } });",
    );
    const stage = await loadCustomStage(
      { module: path, group: "run", options: { tag: "t1" } },
      new Set(["measure"]),
    );
    expect(stage.name).toBe("note-t1");
    expect(stage.group).toBe("run");
    // `this` inside execute is the object the factory returned.
    expect(await stage.execute({ x: 7 } as never)).toBe("t1");
    const pipeline = buildPipeline(builtinStages(), [stage]);
    expect(pipeline.run.map((s) => s.name)).toEqual([
      "temperature-gate",
      "cooldown",
      "measure",
      "post-command",
      "note-t1",
    ]);
    expect(pipeline.pre.map((s) => s.name)).toEqual(["verify-sensors", "stability", "baseline"]);
    expect(pipeline.prepare.map((s) => s.name)).toEqual(["checkout", "build", "setup"]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ["no default export", "export const stage = 1;", /default export is not a function/],
    ["a default that is not a function", "export default { name: 'x' };", /default export is not a function/],
    ["a factory that throws", "export default () => { throw new Error('boom'); };", /factory threw: boom/],
    ["no execute", "export default () => ({ name: 'x' });", /execute must be a function/],
    [
      "an empty name",
      "export default () => ({ name: '', execute() {} });",
      /name must be a non-empty string/,
    ],
    [
      "another group",
      "export default () => ({ name: 'x', group: 'pre', execute() {} });",
      /says group pre but the config puts it in run/,
    ],
    [
      "a built-in's name",
      "export default () => ({ name: 'measure', execute() {} });",
      /a stage named measure already exists/,
    ],
    ["a syntax error", "export default () => ({ name: ", /cannot be loaded/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses a module with ${what}, naming it`, async () => {
      const path = module(`${what.replaceAll(" ", "-")}.mjs`, text);
      const error = await loadCustomStage(
        { module: path, group: "run", options: {} },
        new Set(["measure"]),
      ).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(path);
      expect(error.message).toMatch(message);
    });
  }

  it("refuses a module that does not exist", async () => {
    const error = await loadCustomStage(
      { module: join(dir, "nope.mjs"), group: "post", options: {} },
      new Set(),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/stage module not found: .*nope\.mjs/);
  });
});
