#include "roots.h"

#include <cstdlib>

namespace emp {

namespace {
std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? std::string(value) : std::string(fallback);
}
}  // namespace

Roots Roots::FromEnvironment() {
  Roots roots;
  roots.sysfs = EnvOr("EMP_SYSFS_ROOT", "/sys");
  roots.dev = EnvOr("EMP_DEV_ROOT", "/dev");
  roots.procfs = EnvOr("EMP_PROCFS_ROOT", "/proc");
  roots.nvml_lib = EnvOr("EMP_NVML_LIB", "libnvidia-ml.so.1");
  return roots;
}

}  // namespace emp
