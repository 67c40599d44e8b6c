// emp's summary follows the measured command's output on the same stdout: it must start on a line
// of its own even when the command's last line had no newline ("printf hi").
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * Moves stdout to the start of a fresh line. On a terminal, zsh's way (PROMPT_SP): a line of spaces
 * one short of the width wraps only when the cursor is not at column 0, then "\r" and erase-line
 * leave the cursor at column 0 of a clean line either way. In a regular file the last byte tells.
 * In a pipe nothing can be known, so a newline is written when the command may have written.
 */
export function freshLine(stream: NodeJS.WriteStream = process.stdout, commandWrote = true): void {
  if (!commandWrote) return;
  if (stream.isTTY) {
    const width = stream.columns ?? 80;
    stream.write(`${" ".repeat(Math.max(0, width - 1))}\r\x1b[K`);
    return;
  }
  const fd = (stream as NodeJS.WriteStream & { fd?: number }).fd;
  if (fd !== undefined) {
    try {
      const stat = fstatSync(fd);
      if (stat.isFile()) {
        if (stat.size === 0) return;
        // A shell opens `> file` write-only: the file is read through a descriptor of its own.
        const reader = openSync(`/proc/self/fd/${fd}`, "r");
        const last = Buffer.alloc(1);
        try {
          readSync(reader, last, 0, 1, stat.size - 1);
        } finally {
          closeSync(reader);
        }
        if (last[0] !== 0x0a) stream.write("\n");
        return;
      }
    } catch {
      // not readable back: treated as a pipe
    }
  }
  stream.write("\n");
}
