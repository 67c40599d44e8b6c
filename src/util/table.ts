// Plain-text tables and numbers for a person: columns padded to their widest cell, joules with
// precision that suits their size.

export function joules(j: number): string {
  if (!Number.isFinite(j)) return "-";
  return Math.abs(j) >= 100 ? j.toFixed(1) : Math.abs(j) >= 1 ? j.toFixed(3) : j.toPrecision(3);
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
