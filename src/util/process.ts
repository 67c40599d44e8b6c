// What emp asks about another process: whether a pid names a live one (for locks and sessions
// left behind by a process that died and may be taken over), and whether it waits on its stdin.
import { readFileSync } from "node:fs";

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
