// The NVIDIA Management Library, loaded with dlopen at run time: emp has no link-time dependency
// on the driver and builds without NVIDIA headers, so the few types it uses are declared here.
#pragma once

#include <memory>
#include <string>

namespace emp {

// The subset of nvml.h that emp calls. Values are NVML's ABI and must not change.
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;

inline constexpr nvmlReturn_t kNvmlSuccess = 0;
inline constexpr nvmlReturn_t kNvmlErrorNotSupported = 3;
inline constexpr nvmlReturn_t kNvmlErrorNoPermission = 4;
inline constexpr nvmlReturn_t kNvmlErrorDriverNotLoaded = 9;
inline constexpr int kNvmlTemperatureGpu = 0;    // NVML_TEMPERATURE_GPU
inline constexpr unsigned kNvmlNameBuffer = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

// Owns the dlopen handle and the nvmlInit_v2 that goes with it: the destructor calls
// nvmlShutdown (NVML counts inits, so other users in the process are unaffected) and then
// dlclose. Open() throws emp::Error; the per-device calls return NVML's code so that probes can
// tell "not supported" from a failure, and the three readings are noexcept for the hot path.
class NvmlLibrary {
 public:
  // Loads `path` (a soname searched by the dynamic linker, or a file path) and initialises NVML.
  // Missing library: kAbsent; nvmlInit_v2 failing: kAbsent, kPermission or kUnsupported with
  // nvmlErrorString's text, so a probe can turn the code straight into a sensor status.
  [[nodiscard]] static std::unique_ptr<NvmlLibrary> Open(const std::string& path);

  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;
  NvmlLibrary(NvmlLibrary&&) = delete;
  NvmlLibrary& operator=(NvmlLibrary&&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // Throws emp::Error when NVML cannot count or hand out devices.
  [[nodiscard]] unsigned DeviceCount() const;
  [[nodiscard]] nvmlDevice_t Device(unsigned index) const;
  // The marketing name ("NVIDIA H100 80GB HBM3"); "GPU <index>" when NVML will not say.
  [[nodiscard]] std::string DeviceName(nvmlDevice_t device, unsigned index) const;

  // Hot path: one driver call each, no allocation.
  [[nodiscard]] nvmlReturn_t TotalEnergyMj(nvmlDevice_t device, unsigned long long* energy_mj) const noexcept;
  [[nodiscard]] nvmlReturn_t PowerMw(nvmlDevice_t device, unsigned* power_mw) const noexcept;
  [[nodiscard]] nvmlReturn_t TemperatureC(nvmlDevice_t device, unsigned* temperature_c) const noexcept;

  [[nodiscard]] std::string ErrorString(nvmlReturn_t code) const;

 private:
  NvmlLibrary(std::string path, void* handle);
  void Resolve();

  using InitFn = nvmlReturn_t (*)();
  using ShutdownFn = nvmlReturn_t (*)();
  using CountFn = nvmlReturn_t (*)(unsigned*);
  using HandleFn = nvmlReturn_t (*)(unsigned, nvmlDevice_t*);
  using NameFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned);
  using EnergyFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*);
  using PowerFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned*);
  using TemperatureFn = nvmlReturn_t (*)(nvmlDevice_t, int, unsigned*);
  using ErrorStringFn = const char* (*)(nvmlReturn_t);

  std::string path_;
  void* handle_;  // from dlopen; closed in the destructor
  bool initialised_ = false;
  InitFn init_ = nullptr;
  ShutdownFn shutdown_ = nullptr;
  CountFn count_ = nullptr;
  HandleFn handle_by_index_ = nullptr;
  NameFn name_ = nullptr;
  EnergyFn total_energy_ = nullptr;  // absent from drivers older than the Volta generation's
  PowerFn power_ = nullptr;
  TemperatureFn temperature_ = nullptr;
  ErrorStringFn error_string_ = nullptr;
};

}  // namespace emp
