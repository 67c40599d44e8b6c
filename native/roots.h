// Where the kernel's interfaces live. Containers mount a host's /sys elsewhere and tests point
// these at fixture trees, so no source ever names /sys, /dev or /proc directly.
#pragma once

#include <string>

namespace emp {

struct Roots {
  std::string sysfs = "/sys";                  // EMP_SYSFS_ROOT
  std::string dev = "/dev";                    // EMP_DEV_ROOT
  std::string procfs = "/proc";                // EMP_PROCFS_ROOT
  std::string nvml_lib = "libnvidia-ml.so.1";  // EMP_NVML_LIB

  // Reads the EMP_* variables of this process at the time of the call.
  [[nodiscard]] static Roots FromEnvironment();
};

}  // namespace emp
