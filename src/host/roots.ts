// The injectable roots, read the same way the addon reads them (native/roots.cc), so that host
// facts and sensors describe the same tree.
export interface Roots {
  sysfs: string;
  procfs: string;
  dev: string;
}

function envOr(name: string, fallback: string): string {
  const value = process.env[name];
  return value !== undefined && value !== "" ? value : fallback;
}

export function rootsFromEnvironment(): Roots {
  return {
    sysfs: envOr("EMP_SYSFS_ROOT", "/sys"),
    procfs: envOr("EMP_PROCFS_ROOT", "/proc"),
    dev: envOr("EMP_DEV_ROOT", "/dev"),
  };
}
