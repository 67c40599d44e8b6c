// Stages by name: the built-in ones, each group's default order, and the pipeline a study runs
// (the defaults, then the study's own stages appended to their groups).
import { STAGE_GROUPS, type StageGroup } from "../config/study.js";
import type { Stage } from "./stage.js";
import { aggregateStage, COMMITS_KEY } from "./stages/post.js";
import { baselineStage, stabilityStage, verifySensorsStage } from "./stages/pre.js";
import { checkoutStage, shellStage } from "./stages/prepare.js";
import { cooldownStage, measureStage, postCommandStage, temperatureGateStage } from "./stages/run.js";

export { COMMITS_KEY };

type AnyStage = { [G in StageGroup]: Stage<G> }[StageGroup];

/** The stages of a session, grouped, in the order they run within each group. */
export type Pipeline = { [G in StageGroup]: Stage<G>[] };

export class StageRegistry {
  private readonly factories = new Map<string, { group: StageGroup; create: () => AnyStage }>();

  register<G extends StageGroup>(name: string, group: G, create: () => Stage<G>): this {
    if (this.factories.has(name)) throw new Error(`a stage named ${name} is already registered`);
    this.factories.set(name, { group, create: create as () => AnyStage });
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(group?: StageGroup): string[] {
    return [...this.factories]
      .filter(([, f]) => group === undefined || f.group === group)
      .map(([name]) => name);
  }

  /** A fresh instance (stages may keep state for one session, like the cooldown's first run). */
  create(name: string): AnyStage {
    const factory = this.factories.get(name);
    if (factory === undefined) throw new Error(`no stage named ${name}`);
    return factory.create();
  }
}

/** Every built-in stage, in its group's order. */
export function builtinStages(): StageRegistry {
  return new StageRegistry()
    .register("verify-sensors", "pre", verifySensorsStage)
    .register("stability", "pre", () => stabilityStage())
    .register("baseline", "pre", baselineStage)
    .register("checkout", "prepare", checkoutStage)
    .register("build", "prepare", () => shellStage("build"))
    .register("setup", "prepare", () => shellStage("setup"))
    .register("temperature-gate", "run", temperatureGateStage)
    .register("cooldown", "run", cooldownStage)
    .register("measure", "run", measureStage)
    .register("post-command", "run", postCommandStage)
    .register("aggregate", "post", aggregateStage);
}

/** The registry's stages in registration order per group, then `extra` (custom stages) after them. */
export function buildPipeline(registry: StageRegistry, extra: readonly AnyStage[] = []): Pipeline {
  const pipeline: Pipeline = { pre: [], prepare: [], run: [], post: [] };
  const add = (stage: AnyStage) => (pipeline[stage.group] as AnyStage[]).push(stage);
  for (const group of STAGE_GROUPS) for (const name of registry.names(group)) add(registry.create(name));
  for (const stage of extra) add(stage);
  return pipeline;
}
