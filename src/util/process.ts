// Whether a process id names a live process: for locks and sessions left behind by a process that
// died (killed, machine rebooted) and may be taken over.

/** True when `pid` exists; EPERM means it exists under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
