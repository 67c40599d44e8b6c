// What /proc says of a process, for tests that check a command's processes have ended.
import { readFileSync } from "node:fs";

/** The process's state letter from /proc ("S" sleeping, "Z" zombie), or "gone". */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return "gone"; // gone, or gone between the check and the read
  }
}

/** Alive: the process exists and is not a zombie (a zombie waits for its new parent to reap it). */
export function alive(pid: number): boolean {
  return !["gone", "Z", "X"].includes(processState(pid));
}
