// Facts about the machine that decide what emp can measure and how well: CPU, kernel,
// virtualisation, perf permissions, frequency governor and turbo. Read from procfs and sysfs under
// the injectable roots; a fact that cannot be read is null, never guessed.
import { readFileSync } from "node:fs";
import { availableParallelism, release } from "node:os";
import { join } from "node:path";
import { type Roots, rootsFromEnvironment } from "./roots.js";

export interface Virtualisation {
  /** True when the CPU reports the `hypervisor` flag or the firmware names a known hypervisor. */
  virtual: boolean;
  /** The `hypervisor` flag of /proc/cpuinfo: set by every mainstream hypervisor for its guests. */
  hypervisorFlag: boolean;
  /** DMI system vendor and product (/sys/class/dmi/id), when the VM exposes them. */
  systemVendor: string | null;
  productName: string | null;
  /** /sys/hypervisor/type (Xen), when present. */
  hypervisorType: string | null;
}

export interface HostFacts {
  cpuModel: string | null;
  /** "intel", "amd" or the raw vendor_id for anything else. */
  cpuVendor: string | null;
  cpuVendorId: string | null;
  cpuFamily: number | null;
  cpuModelNumber: number | null;
  microcode: string | null;
  cpuCount: number;
  kernel: string;
  virtualisation: Virtualisation;
  /** -1 to 4 (higher is stricter); 2 and above keep unprivileged users from system-wide counters. */
  perfEventParanoid: number | null;
  /** cpufreq scaling governor of cpu0 ("performance", "powersave", "schedutil"); null without cpufreq. */
  governor: string | null;
  /** Turbo/boost: true enabled, false disabled, null when the machine does not say. */
  turbo: boolean | null;
  /** Where the turbo fact was read from. */
  turboSource: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

function readInt(path: string): number | null {
  const text = readText(path);
  if (text === null || !/^-?\d+$/.test(text)) return null;
  return Number.parseInt(text, 10);
}

/** The fields of the first processor block of /proc/cpuinfo, and how many processors it lists. */
export function parseCpuinfo(text: string): { fields: Map<string, string>; processors: number } {
  const fields = new Map<string, string>();
  let processors = 0;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") processors++;
    if (processors <= 1 && !fields.has(key)) fields.set(key, value);
  }
  return { fields, processors };
}

const VENDORS: Record<string, string> = { GenuineIntel: "intel", AuthenticAMD: "amd", HygonGenuine: "hygon" };
// DMI vendors and products that only virtual machines report; the hypervisor flag covers the rest.
const VIRTUAL_DMI =
  /qemu|kvm|vmware|virtualbox|innotek|xen|bochs|parallels|amazon ec2|google compute|virtual machine/i;

function turboOf(sysfs: string): { turbo: boolean | null; source: string | null } {
  // intel_pstate says the opposite: no_turbo = 1 means turbo is off.
  const noTurboPath = join(sysfs, "devices/system/cpu/intel_pstate/no_turbo");
  const noTurbo = readInt(noTurboPath);
  if (noTurbo !== null) return { turbo: noTurbo === 0, source: noTurboPath };
  const boostPath = join(sysfs, "devices/system/cpu/cpufreq/boost");
  const boost = readInt(boostPath);
  if (boost !== null) return { turbo: boost === 1, source: boostPath };
  // amd-pstate exposes boost per policy.
  const policyBoostPath = join(sysfs, "devices/system/cpu/cpufreq/policy0/boost");
  const policyBoost = readInt(policyBoostPath);
  if (policyBoost !== null) return { turbo: policyBoost === 1, source: policyBoostPath };
  return { turbo: null, source: null };
}

export function gatherHostFacts(roots: Roots = rootsFromEnvironment()): HostFacts {
  const { fields, processors } = parseCpuinfo(readText(join(roots.procfs, "cpuinfo")) ?? "");
  // ARM kernels name the model differently; "model name" is the x86 field.
  const cpuModel = fields.get("model name") ?? fields.get("Processor") ?? fields.get("cpu model") ?? null;
  const vendorId = fields.get("vendor_id") ?? null;
  const flags = new Set((fields.get("flags") ?? "").split(/\s+/));
  const family = fields.get("cpu family");
  const model = fields.get("model");
  const systemVendor = readText(join(roots.sysfs, "class/dmi/id/sys_vendor"));
  const productName = readText(join(roots.sysfs, "class/dmi/id/product_name"));
  const hypervisorType = readText(join(roots.sysfs, "hypervisor/type"));
  const hypervisorFlag = flags.has("hypervisor");
  const dmiVirtual = VIRTUAL_DMI.test(`${systemVendor ?? ""} ${productName ?? ""}`);
  const { turbo, source } = turboOf(roots.sysfs);
  return {
    cpuModel,
    cpuVendor: vendorId === null ? null : (VENDORS[vendorId] ?? vendorId),
    cpuVendorId: vendorId,
    cpuFamily: family !== undefined && /^\d+$/.test(family) ? Number(family) : null,
    cpuModelNumber: model !== undefined && /^\d+$/.test(model) ? Number(model) : null,
    microcode: fields.get("microcode") ?? null,
    cpuCount: processors > 0 ? processors : availableParallelism(),
    kernel: readText(join(roots.procfs, "sys/kernel/osrelease")) ?? release(),
    virtualisation: {
      virtual: hypervisorFlag || dmiVirtual || (hypervisorType !== null && hypervisorType !== ""),
      hypervisorFlag,
      systemVendor,
      productName,
      hypervisorType,
    },
    perfEventParanoid: readInt(join(roots.procfs, "sys/kernel/perf_event_paranoid")),
    governor: readText(join(roots.sysfs, "devices/system/cpu/cpu0/cpufreq/scaling_governor")),
    turbo,
    turboSource: source,
  };
}
