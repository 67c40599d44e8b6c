// Plain-text tables and numbers for a person: columns padded to their widest cell, joules with
// precision that suits their size.

export function joules(j: number): string {
  if (!Number.isFinite(j)) return "-";
  return Math.abs(j) >= 100 ? j.toFixed(1) : Math.abs(j) >= 1 ? j.toFixed(3) : j.toPrecision(3);
}

/** `text` cut to `width` characters, an ellipsis marking the cut. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** Rows under a header, each column as wide as its widest cell plus two spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)) + 2);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A run's time with precision that suits it: "1.234 s", and 3 significant digits under 1 s ("51.2 ms"). */
export function runSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(3)} s` : `${(s * 1000).toPrecision(3)} ms`;
}

/** "42 s", "5 min 03 s", "2 h 05 min": precise enough to compare sessions at a glance. */
export function formatDurationS(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const pad2 = (n: number) => String(n).padStart(2, "0");
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${pad2(whole % 60)} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${pad2(minutes % 60)} min`;
  const hours = Math.floor(minutes / 60);
  return `${Math.floor(hours / 24)} d ${pad2(hours % 24)} h`;
}

/** A command line as a person would type it into a shell: words with spaces or quotes single-quoted. */
export function shellLine(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(" ");
}
