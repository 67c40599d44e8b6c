// RAPL through the powercap sysfs tree: <sysfs>/class/powercap/intel-rapl:N[:M]/energy_uj.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source.h"
#include "source_registry.h"
#include "unique_fd.h"

namespace emp {

// A zone found in the tree, before any file is opened.
struct PowercapZone {
  std::string id;      // "intel-rapl:0:1"
  std::string dir;     // full path of the zone directory
  std::string domain;  // "package-0", "core-0", "dram-0", "psys"
  uint64_t max_energy_range_uj = 0;
};

// What discovery found: the zones that can be used, and why each other zone cannot.
struct PowercapTree {
  std::vector<PowercapZone> zones;
  std::vector<std::string> refused;  // "<dir>/max_energy_range_uj is '1': ..."
};

class PowercapSource final : public Source {
 public:
  // A zone is refused, never guessed at, when its directory or name is out of the kernel's pattern
  // or its max_energy_range_uj is missing, not a number, 1 or less (no counter has so short a
  // range: it would read as wraps on every tick), or past 2^53 - 1 (the wrap would not survive as
  // a JS number).
  [[nodiscard]] static PowercapTree Discover(const std::string& sysfs_root);
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "powercap"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  bool Read(uint64_t* out) noexcept override;

 private:
  PowercapSource(std::vector<Channel> channels, std::vector<UniqueFd> fds);
  std::vector<Channel> channels_;
  std::vector<UniqueFd> fds_;  // energy_uj of each zone, open for the source's lifetime
};

}  // namespace emp
