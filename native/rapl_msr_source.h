// RAPL energy counters read straight from the model-specific registers through the msr driver
// (<dev>/cpu/<cpu>/msr), for Intel and for AMD family 17h and later (and Hygon 18h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source.h"
#include "source_registry.h"
#include "unique_fd.h"

namespace emp {

enum class CpuVendor { kUnknown, kIntel, kAmd, kHygon };

// The identity fields of the first processor in <procfs>/cpuinfo.
struct CpuIdentity {
  CpuVendor vendor = CpuVendor::kUnknown;
  std::string vendor_id;  // as the kernel spells it: "GenuineIntel"
  int family = -1;        // "cpu family", already the extended family the kernel computed
  int model = -1;         // "model", extended model included
};

// Parses cpuinfo text; fields that are missing stay unknown (-1, kUnknown).
[[nodiscard]] CpuIdentity ParseCpuInfo(const std::string& text);

// Energy status unit: bits 12:8 of the RAPL power unit register; one count is 2^-ESU joules.
[[nodiscard]] constexpr unsigned EnergyStatusUnit(uint64_t power_unit_register) noexcept {
  return static_cast<unsigned>((power_unit_register >> 8) & 0x1F);
}

// True for Intel server parts whose DRAM counter uses a fixed 2^-16 J unit whatever the power
// unit register says (see the model list in the .cc).
[[nodiscard]] bool HasFixedDramUnit(const CpuIdentity& cpu) noexcept;

class RaplMsrSource final : public Source {
 public:
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "msr"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  bool Read(uint64_t* out) noexcept override;

  // One register of one CPU, read at every tick. `fd_index` points into the owned fds, so
  // registers of one CPU share one open device.
  struct Register {
    size_t fd_index;
    off_t address;
  };

 private:
  RaplMsrSource(std::vector<Channel> channels, std::vector<UniqueFd> fds, std::vector<Register> registers);
  std::vector<Channel> channels_;
  std::vector<UniqueFd> fds_;  // <dev>/cpu/<cpu>/msr, one per CPU read
  std::vector<Register> registers_;
};

}  // namespace emp
