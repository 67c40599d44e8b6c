// perf_event_open counters as a sampled source (kind "perf"): system-wide, one fd per online CPU
// summed on each read, or one process with its descendants.
// System-wide, task-clock and cpu-clock count the time each CPU's counter was enabled, busy or
// idle: they grow by (online CPUs x wall time), a clock, not a load. Per process they are the
// process's CPU time.
#pragma once

#include <memory>
#include <vector>

#include "perf_event.h"
#include "source.h"
#include "source_registry.h"

namespace emp {

class PerfCounterSource final : public Source {
 public:
  // Tries every event in the table, per process and system-wide, and says which work and why not.
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  // spec.select names events; empty means every event that opens here (hardware events that
  // the machine lacks are left out). A named event that cannot be opened throws.
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "perf"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  // Writes, per channel, the sum over its fds of the multiplexing-scaled count.
  bool Read(uint64_t* out) noexcept override;

 private:
  PerfCounterSource(std::vector<Channel> channels, std::vector<std::unique_ptr<PerfEvent>> events,
                    size_t events_per_channel);

  std::vector<Channel> channels_;
  // Channel-major: channel c owns events_[c * events_per_channel_ .. (c + 1) * events_per_channel_).
  std::vector<std::unique_ptr<PerfEvent>> events_;
  size_t events_per_channel_;
  // Last value written per fd. A scaled (extrapolated) count can step back when the kernel's
  // multiplexing changes; holding the maximum keeps the channel a true counter for the TS side.
  std::vector<uint64_t> last_scaled_;
};

}  // namespace emp
