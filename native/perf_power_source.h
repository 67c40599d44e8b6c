// RAPL energy through the perf `power` PMU: counting events opened system-wide on one CPU per
// package, as the kernel describes them under <sysfs>/bus/event_source/devices/power.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source.h"
#include "source_registry.h"
#include "unique_fd.h"

namespace emp {

// One energy-* event as sysfs describes it.
struct PerfPowerEvent {
  std::string name;    // "energy-pkg"
  std::string domain;  // domain prefix: "package", "core", "uncore", "dram", "psys"
  std::string terms;   // the event file: "event=0x02"
  uint64_t config = 0;
  double scale = 0;  // joules per count, from energy-*.scale
  std::string unit;  // from energy-*.unit: "Joules"
};

// The PMU as sysfs describes it; nothing in it has been checked against the running kernel.
struct PerfPowerPmu {
  std::string dir;
  uint32_t type = 0;
  std::vector<int> cpumask;  // the CPUs the kernel reads the counters on (one per package or die)
  std::vector<PerfPowerEvent> events;
  std::vector<std::string> skipped;  // events that could not be understood, with why
};

// Bit ranges of one format field, "config:0-7" or "config:0-7,32-35". nullopt for another
// attr field (config1, config2) or malformed text.
[[nodiscard]] std::optional<std::vector<std::pair<unsigned, unsigned>>> ParsePerfFormat(const std::string& text);
// Folds an event's terms ("event=0x02,umask=0x1") into attr.config using the PMU's format
// fields (term -> "config:0-7"). A term without a format is an error, except `event`, which
// without one is the whole config.
[[nodiscard]] std::optional<uint64_t> ParsePerfEventConfig(const std::string& terms,
                                                           const std::map<std::string, std::string>& formats);
// A .scale file: a positive finite decimal ("2.3283064365386962890625e-10").
[[nodiscard]] std::optional<double> ParsePerfScale(const std::string& text);

class PerfPowerSource final : public Source {
 public:
  // nullopt when <sysfs>/bus/event_source/devices/power/type cannot be read; throws emp::Error
  // (unsupported) when it holds no PMU type, a number in [0, 2^32).
  [[nodiscard]] static std::optional<PerfPowerPmu> Describe(const std::string& sysfs_root);
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "perf-power"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  bool Read(uint64_t* out) noexcept override;

 private:
  PerfPowerSource(std::vector<Channel> channels, std::vector<UniqueFd> fds);
  std::vector<Channel> channels_;
  std::vector<UniqueFd> fds_;  // one perf event per channel, counting since it was opened
};

}  // namespace emp
