// What the newest run of a dead session left running: the processes still in its cgroup or in its
// process group, named with how to end them, since a session measured beside them would count
// their energy as its own.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { SessionRow } from "../ledger/ledger.js";
import { readBootId } from "../ledger/liveness.js";
import { liveProcesses, type ProcessInfo, processGroupMembers, processStartTicks } from "../util/process.js";

export interface Leftovers {
  processes: ProcessInfo[];
  /** Where they are, for a person: "cgroup PATH" or "process group N". */
  where: string;
  /** A shell command that ends them all. */
  end: string;
}

/** The pids listed in a cgroup's cgroup.procs; none when the cgroup is gone. */
function cgroupPids(cgroup: string): number[] {
  try {
    return readFileSync(`${cgroup}/cgroup.procs`, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The live processes of the dead session's newest run, or undefined when none is left (or the
 * session ran on another host or before a reboot, where none of its processes can be here).
 * In a process group, only processes started after the session's emp count: a group id reused
 * by a later, unrelated group would otherwise be named.
 */
export function leftoverProcesses(session: SessionRow): Leftovers | undefined {
  if (session.host !== hostname() || session.runGroup === null) return undefined;
  const boot = readBootId();
  if (session.bootId !== null && boot !== null && session.bootId !== boot) return undefined;
  if (session.runCgroup !== null) {
    const processes = liveProcesses(cgroupPids(session.runCgroup));
    if (processes.length === 0) return undefined;
    return {
      processes,
      where: `cgroup ${session.runCgroup}`,
      end: `echo 1 > ${session.runCgroup}/cgroup.kill`,
    };
  }
  const since = session.processStart;
  const processes = processGroupMembers(session.runGroup).filter(
    (p) => since === null || (processStartTicks(p.pid) ?? 0) >= since,
  );
  if (processes.length === 0) return undefined;
  return { processes, where: `process group ${session.runGroup}`, end: `kill -TERM -${session.runGroup}` };
}

/** One line for a person: which session, why it is dead, what still runs and how to end it. */
export function describeLeftovers(sessionId: string, why: string, left: Leftovers): string {
  const n = left.processes.length;
  const pids = left.processes.map((p) => `${p.pid} (${p.command})`).join(", ");
  return `session ${sessionId} is dead (${why}) but left ${n} process${n === 1 ? "" : "es"} of its last run running in ${left.where}: ${pids}; they disturb what is measured now: end them with \`${left.end}\``;
}
