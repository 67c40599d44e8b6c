// Once per unique commit, several commits at a time (`jobs`): its own worktree, checked out from the
// session's mirror so the user's repository is never touched, then the study's build and setup.
import { join } from "node:path";
import { runShell } from "../../util/shell.js";
import type { CommitContext, Stage } from "../stage.js";

export function checkoutStage(): Stage<"prepare"> {
  return {
    name: "checkout",
    group: "prepare",
    async execute(context: CommitContext) {
      const dir = join(context.out, "worktrees", context.commit.short);
      await context.mirror.addWorktree(context.commit.sha, dir);
      context.state.worktree = dir;
    },
  };
}

/** A shell step of the config (`build`, `setup`) in the commit's worktree; nothing when not set. */
export function shellStage(step: "build" | "setup"): Stage<"prepare"> {
  return {
    name: step,
    group: "prepare",
    async execute(context: CommitContext) {
      const { config } = context.study;
      const command = step === "build" ? config.build : config.setup;
      if (command === undefined) return;
      const cwd = context.state.worktree;
      if (cwd === undefined) throw new Error(`${step} needs the checkout stage before it`);
      context.log(`${context.commit.short}: ${step}`);
      await runShell(command, {
        cwd,
        env: config.env,
        logPath: context.logPath,
        timeoutS: config.buildTimeoutS,
        signal: context.signal,
        step,
      });
    },
  };
}
