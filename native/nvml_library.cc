#include "nvml_library.h"

#include <dlfcn.h>

#include "errors.h"

namespace emp {

namespace {
constexpr const char* kMissingFix =
    "install the NVIDIA driver (it ships libnvidia-ml.so.1; `nvidia-smi` should work); in a container, "
    "pass the GPUs through (`--gpus all` with the NVIDIA container toolkit); or point EMP_NVML_LIB at "
    "libnvidia-ml.so.1";
constexpr const char* kDriverFix = "load the NVIDIA kernel driver (`sudo modprobe nvidia`) and check `nvidia-smi`";
constexpr const char* kPermissionFix =
    "this process may not open /dev/nvidia*: add the user to the group that owns them, or pass the GPUs into "
    "the container";
constexpr const char* kInitFix =
    "check `nvidia-smi`; after a driver update the kernel module and libnvidia-ml.so must match (reboot or "
    "reload the nvidia module)";

// dlopen reports a missing file and a broken one through the same call; only the first means
// "no driver installed".
bool IsMissing(const std::string& dl_error) {
  return dl_error.find("No such file") != std::string::npos || dl_error.find("not found") != std::string::npos;
}
}  // namespace

std::unique_ptr<NvmlLibrary> NvmlLibrary::Open(const std::string& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    const std::string detail = err != nullptr ? err : "unknown dlopen error";
    if (IsMissing(detail)) {
      throw Error(ErrorCode::kAbsent, path + " not found (no NVIDIA driver)", 0, path, kMissingFix);
    }
    throw Error(ErrorCode::kUnsupported, "cannot load " + path + ": " + detail, 0, path, kMissingFix);
  }
  // Owned from here on, so a missing symbol or a failed init still closes the handle.
  std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary(path, handle));
  lib->Resolve();
  const nvmlReturn_t status = lib->init_();
  if (status != kNvmlSuccess) {
    const std::string reason = "nvmlInit_v2 failed: " + lib->ErrorString(status);
    switch (status) {
      case kNvmlErrorDriverNotLoaded: throw Error(ErrorCode::kAbsent, reason, 0, path, kDriverFix);
      case kNvmlErrorNoPermission: throw Error(ErrorCode::kPermission, reason, 0, path, kPermissionFix);
      default: throw Error(ErrorCode::kUnsupported, reason, 0, path, kInitFix);
    }
  }
  lib->initialised_ = true;
  return lib;
}

NvmlLibrary::NvmlLibrary(std::string path, void* handle) : path_(std::move(path)), handle_(handle) {}

NvmlLibrary::~NvmlLibrary() {
  if (initialised_) shutdown_();
  dlclose(handle_);
}

void NvmlLibrary::Resolve() {
  auto required = [this](const char* name) {
    void* symbol = dlsym(handle_, name);
    if (symbol == nullptr) {
      throw Error(ErrorCode::kUnsupported, path_ + " has no " + name + " (NVIDIA driver too old)", 0, path_,
                  "update the NVIDIA driver");
    }
    return symbol;
  };
  init_ = reinterpret_cast<InitFn>(required("nvmlInit_v2"));
  shutdown_ = reinterpret_cast<ShutdownFn>(required("nvmlShutdown"));
  count_ = reinterpret_cast<CountFn>(required("nvmlDeviceGetCount_v2"));
  handle_by_index_ = reinterpret_cast<HandleFn>(required("nvmlDeviceGetHandleByIndex_v2"));
  name_ = reinterpret_cast<NameFn>(required("nvmlDeviceGetName"));
  power_ = reinterpret_cast<PowerFn>(required("nvmlDeviceGetPowerUsage"));
  temperature_ = reinterpret_cast<TemperatureFn>(required("nvmlDeviceGetTemperature"));
  error_string_ = reinterpret_cast<ErrorStringFn>(required("nvmlErrorString"));
  // Optional: drivers before the Volta generation do not export it; the power gauge stands in.
  total_energy_ = reinterpret_cast<EnergyFn>(dlsym(handle_, "nvmlDeviceGetTotalEnergyConsumption"));
}

unsigned NvmlLibrary::DeviceCount() const {
  unsigned count = 0;
  const nvmlReturn_t status = count_(&count);
  if (status != kNvmlSuccess) {
    throw Error(ErrorCode::kIo, "nvmlDeviceGetCount_v2 failed: " + ErrorString(status), 0, path_, kInitFix);
  }
  return count;
}

nvmlDevice_t NvmlLibrary::Device(unsigned index) const {
  nvmlDevice_t device = nullptr;
  const nvmlReturn_t status = handle_by_index_(index, &device);
  if (status != kNvmlSuccess) {
    const ErrorCode code = status == kNvmlErrorNoPermission ? ErrorCode::kPermission : ErrorCode::kIo;
    throw Error(code, "nvmlDeviceGetHandleByIndex_v2(" + std::to_string(index) + ") failed: " + ErrorString(status), 0,
                path_, status == kNvmlErrorNoPermission ? kPermissionFix : kInitFix);
  }
  return device;
}

std::string NvmlLibrary::DeviceName(nvmlDevice_t device, unsigned index) const {
  char name[kNvmlNameBuffer] = {};
  if (name_(device, name, sizeof name) != kNvmlSuccess || name[0] == '\0') return "GPU " + std::to_string(index);
  name[sizeof name - 1] = '\0';
  return name;
}

nvmlReturn_t NvmlLibrary::TotalEnergyMj(nvmlDevice_t device, unsigned long long* energy_mj) const noexcept {
  if (total_energy_ == nullptr) return kNvmlErrorNotSupported;
  return total_energy_(device, energy_mj);
}

nvmlReturn_t NvmlLibrary::PowerMw(nvmlDevice_t device, unsigned* power_mw) const noexcept {
  return power_(device, power_mw);
}

nvmlReturn_t NvmlLibrary::TemperatureC(nvmlDevice_t device, unsigned* temperature_c) const noexcept {
  return temperature_(device, kNvmlTemperatureGpu, temperature_c);
}

std::string NvmlLibrary::ErrorString(nvmlReturn_t code) const {
  const char* text = error_string_ != nullptr ? error_string_(code) : nullptr;
  const std::string suffix = " (NVML error " + std::to_string(code) + ")";
  return text != nullptr ? std::string(text) + suffix : "unknown" + suffix;
}

}  // namespace emp
