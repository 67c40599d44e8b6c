// What emp asks about another process through kill(2) and /proc: whether a pid names a live one
// (for locks and sessions left behind by a process that died and may be taken over), when it
// started, which processes are in a process group (what a killed session left running), and
// whether it waits on its stdin.
import { readdirSync, readFileSync } from "node:fs";

/** True when `pid` exists; EPERM means it exists under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** read, pread64 and readv: the system calls of a process blocked reading a stream, per architecture. */
const READ_SYSCALLS: Partial<Record<NodeJS.Architecture, readonly number[]>> = {
  x64: [0, 17, 19],
  arm64: [63, 65, 67],
};

/**
 * True when `pid` is blocked in a read of its standard input, from /proc/<pid>/syscall (the call
 * and its first argument, the descriptor). False where that cannot be known (another
 * architecture, a process that has ended, no permission to read it).
 */
export function waitingOnStdin(pid: number, procfs = "/proc"): boolean {
  const reads = READ_SYSCALLS[process.arch];
  if (reads === undefined) return false;
  try {
    const [call, fd] = readFileSync(`${procfs}/${pid}/syscall`, "utf8").trim().split(" ");
    return reads.includes(Number(call)) && fd === "0x0";
  } catch {
    return false;
  }
}

/** The fields of /proc/<pid>/stat after the command name, which may hold spaces and parentheses;
 * undefined when the process is gone (or off Linux). Index 0 is field 3 (the state). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/**
 * When `pid` started, in clock ticks after boot (field 22 of /proc/<pid>/stat); null when it is
 * gone or /proc cannot say. With the boot id it names one process: a pid reused later starts later.
 */
export function processStartTicks(pid: number): number | null {
  const ticks = Number(statFields(pid)?.[19]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

/** A live process: its pid and command name. */
export interface ProcessInfo {
  pid: number;
  command: string;
}

/** The command name of /proc/<pid>/comm, or "?" when it cannot be read. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** Live processes (zombies left out) among `pids`, with their command names. */
export function liveProcesses(pids: readonly number[]): ProcessInfo[] {
  return pids
    .filter((pid) => {
      const state = statFields(pid)?.[0];
      return state !== undefined && state !== "Z" && state !== "X";
    })
    .map((pid) => ({ pid, command: commandOf(pid) }));
}

/** Live processes whose process group is `group` (field 5 of /proc/<pid>/stat), oldest pid first. */
export function processGroupMembers(group: number): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const members = names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => Number(statFields(pid)?.[2]) === group)
    .sort((a, b) => a - b);
  return liveProcesses(members);
}
