// NVIDIA GPUs through NVML: the total energy counter (Volta and newer), the power gauge as its
// fallback and second series, and the GPU temperature, per GPU.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nvml_library.h"
#include "source.h"
#include "source_registry.h"

namespace emp {

// A GPU found through NVML, with what it answered when each reading was tried once.
struct NvmlGpu {
  unsigned index = 0;
  nvmlDevice_t device = nullptr;
  std::string name;
  nvmlReturn_t energy_status = kNvmlErrorNotSupported;
  nvmlReturn_t power_status = kNvmlErrorNotSupported;
  nvmlReturn_t temperature_status = kNvmlErrorNotSupported;
};

class NvmlSource final : public Source {
 public:
  // NVML serialises calls in the driver and refreshes its values only every 10-100 ms, so
  // reading faster costs the CPU sensors' schedule and gains nothing.
  static constexpr double kMaxHz = 50.0;

  [[nodiscard]] static std::vector<NvmlGpu> Discover(const NvmlLibrary& lib);
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "nvml"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  double max_hz() const noexcept override { return kMaxHz; }
  bool blocking() const noexcept override { return true; }
  bool Read(uint64_t* out) noexcept override;

 private:
  enum class Reading { kEnergy, kPower, kTemperature };
  // What one output slot reads: prepared once so that Read only calls into the driver.
  struct Slot {
    Reading reading;
    nvmlDevice_t device;
  };

  NvmlSource(std::unique_ptr<NvmlLibrary> lib, std::vector<Channel> channels, std::vector<Slot> slots);

  std::unique_ptr<NvmlLibrary> lib_;  // initialised for the source's lifetime; device handles depend on it
  std::vector<Channel> channels_;
  std::vector<Slot> slots_;  // parallel to channels_
};

}  // namespace emp
