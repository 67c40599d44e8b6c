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

class PowercapSource final : public Source {
 public:
  [[nodiscard]] static std::vector<PowercapZone> Discover(const std::string& sysfs_root);
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
