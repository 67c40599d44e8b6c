// perf_event_open counters as a sampled source (kind "perf"): system-wide, each online CPU's events
// in a group read with one read() (PERF_FORMAT_GROUP) and summed over the CPUs, or one process with
// its descendants, one fd per event (the kernel does not group inherited counters).
// System-wide, task-clock and cpu-clock count the time each CPU's counter was enabled, busy or
// idle: they grow by (online CPUs x wall time), a clock, not a load. Per process they are the
// process's CPU time.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "perf_event.h"
#include "source.h"
#include "source_registry.h"

namespace emp {

// The open counters of a perf source and where each count goes.
struct PerfCounters {
  std::vector<std::unique_ptr<PerfEvent>> events;  // per process: one per channel
  std::vector<PerfGroup> groups;                   // system-wide: per CPU, software and hardware apart
  // One per fd, events first, then each group's in order: the channel it adds to, and the last
  // count it gave. A scaled (extrapolated) count can step back when the kernel's multiplexing
  // changes; holding the maximum keeps the channel a true counter for the TS side.
  struct Member {
    size_t channel;
    uint64_t last_scaled;
  };
  std::vector<Member> members;
};

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
  PerfCounterSource(std::vector<Channel> channels, PerfCounters counters);

  std::vector<Channel> channels_;
  PerfCounters counters_;
  std::array<PerfReading, PerfGroup::kMaxEvents> readings_;  // one group read's counts
};

}  // namespace emp
