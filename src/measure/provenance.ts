// Where a measurement came from: emp's version, the host, its CPU and kernel, the sensors used and
// the git commit of the working directory. Kept in manifest.json and in the Arrow schema metadata.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { gitSync } from "../git/exec.js";
import { gatherHostFacts } from "../host/facts.js";
import { addon, type ContainmentSupport, type SensorReport } from "../native.js";
import type { EnergyBackend } from "./backend.js";
import type { Provenance } from "./recorder.js";
import { selectEnergySources } from "./select-sources.js";

export function empVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The commit checked out in `cwd`, with "-dirty" when the tree has changes; null outside git. */
export function gitCommit(cwd = process.cwd()): string | null {
  try {
    // Through git/exec: a GIT_DIR left by a hook would otherwise name that hook's repository.
    const run = (args: string[]) => gitSync(args, { cwd }).trim();
    const commit = run(["rev-parse", "HEAD"]);
    return run(["status", "--porcelain"]) === "" ? commit : `${commit}-dirty`;
  } catch {
    return null;
  }
}

/** What the provenance's gathering did that a reader of the results should know. */
export function provenanceWarnings(provenance: Provenance): string[] {
  const containment = provenance.containment as ContainmentSupport | undefined;
  const ended = containment?.kind === "cgroup" ? (containment.orphansEnded ?? 0) : 0;
  if (ended === 0) return [];
  return [
    `ended ${ended} process${ended === 1 ? "" : "es"} left running in the cgroups of an emp that was killed outright, before the baseline`,
  ];
}

export function gatherProvenance(
  reports: readonly SensorReport[],
  backend: EnergyBackend,
  requested?: readonly string[],
): Provenance {
  const host = gatherHostFacts();
  return {
    emp_version: empVersion(),
    host: hostname(),
    cpu_model: host.cpuModel,
    cpu_vendor: host.cpuVendor,
    microcode: host.microcode,
    kernel: host.kernel,
    virtual_machine: host.virtualisation.virtual,
    governor: host.governor,
    estimated: backend.estimated,
    // Which interface was read for each domain, the others that could have been, and why.
    sources: backend.estimated ? backend.domains : selectEnergySources(reports, requested).domains,
    sensors: reports.map((r) => ({ kind: r.kind, status: r.status })),
    git_commit: gitCommit(),
    // How each run's process tree is held: a cgroup of emp's own, or a process group and why.
    containment: addon.containment(),
    node: process.version,
  };
}
