// The one rule for whether a session's process still runs, for the ledger's sessions of `emp run`
// (history, and markAbandoned at the next session's start) and the manifests of emp run and emp
// measure: the process is named by host, boot, pid and the pid's start time, so neither a reboot
// nor a pid reused by another process passes for the session's own emp.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { processAlive, processStartTicks } from "../util/process.js";

/** The process that runs a session, as the ledger and the manifest record it. */
export interface SessionProcess {
  pid: number;
  host: string;
  /** Null off Linux, and in ledgers older than schema 2 (no boot is assumed then). */
  bootId: string | null;
  /** The pid's start time in clock ticks after boot; null where /proc could not say. */
  processStart: number | null;
}

export type Liveness = { alive: true; host: string; here: boolean } | { alive: false; why: string };

/** Distinguishes this boot from earlier ones: after a reboot a session's pid may belong to an
 * unrelated process, and the boot id says its own process is gone. Null off Linux. */
export function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return null;
  }
}

/** This process, to be recorded by the session it runs. */
export function thisProcess(): SessionProcess {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readBootId(),
    processStart: processStartTicks(process.pid),
  };
}

/** This process as manifest.json records it (snake_case, like the rest of the file). */
export function manifestProcess(): {
  pid: number;
  host: string;
  boot_id: string | null;
  start_ticks: number | null;
} {
  const own = thisProcess();
  return { pid: own.pid, host: own.host, boot_id: own.bootId, start_ticks: own.processStart };
}

/**
 * Whether the process of a session that never recorded its end still runs. On this host: not when
 * the machine rebooted since, the pid is gone, or the pid started at another time (another process
 * has it now). On another host its pid says nothing here: it runs while the directory's lock
 * (`lockPath`, held while a session writes) is there.
 */
export function sessionLiveness(owner: SessionProcess, lockPath: string): Liveness {
  if (owner.host !== hostname()) {
    return existsSync(lockPath)
      ? { alive: true, host: owner.host, here: false }
      : { alive: false, why: `it ran on ${owner.host} and the directory's lock is gone` };
  }
  const bootId = readBootId();
  if (owner.bootId !== null && bootId !== null && owner.bootId !== bootId) {
    return { alive: false, why: "the machine has rebooted since it started" };
  }
  if (!processAlive(owner.pid)) return { alive: false, why: `its process (pid ${owner.pid}) is gone` };
  const startTicks = processStartTicks(owner.pid);
  if (owner.processStart !== null && startTicks !== null && startTicks !== owner.processStart) {
    return { alive: false, why: `its process is gone (pid ${owner.pid} is another process now)` };
  }
  return { alive: true, host: owner.host, here: true };
}
