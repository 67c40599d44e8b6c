// One perf_event_open counter owned as a file descriptor, and the small table of named events
// emp knows. Both the "perf" source and the child runner open their counters through this.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "unique_fd.h"

struct perf_event_attr;

namespace emp {

// The perf_event_open syscall (close-on-exec), alone or into the group led by group_fd: an fd, or -1
// with errno set.
[[nodiscard]] int PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group_fd = -1) noexcept;

struct PerfEventDef {
  const char* name;  // the user's name for it: "cycles", "task-clock"
  uint32_t type;     // PERF_TYPE_HARDWARE or PERF_TYPE_SOFTWARE
  uint64_t config;   // PERF_COUNT_HW_* or PERF_COUNT_SW_*
  bool counts_ns;    // task-clock and cpu-clock count nanoseconds, the rest count events

  [[nodiscard]] bool hardware() const noexcept;
};

// Every event emp can open, hardware first.
[[nodiscard]] const std::vector<PerfEventDef>& PerfEventTable();
// nullptr when the name is not in the table.
[[nodiscard]] const PerfEventDef* FindPerfEvent(const std::string& name) noexcept;
// "cycles, instructions, ..." for error messages.
[[nodiscard]] std::string PerfEventNames();

// One read() of an event opened with read_format TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING.
// The raw value is kept as the kernel gave it: when the PMU has fewer counters than events
// the kernel multiplexes them, running_ns < enabled_ns, and `value` covers only running_ns.
// Scaled() extrapolates to the whole enabled time; callers choose which they report.
struct PerfReading {
  uint64_t value = 0;
  uint64_t enabled_ns = 0;  // time the event was enabled
  uint64_t running_ns = 0;  // time it was actually counting on the PMU

  [[nodiscard]] bool multiplexed() const noexcept { return running_ns < enabled_ns; }
  // value * enabled / running; 0 when the event never ran. Exact in 128-bit, no allocation.
  [[nodiscard]] uint64_t Scaled() const noexcept;
};

// What an event counts: one process (and with inherit its descendants) or one CPU.
struct PerfTarget {
  pid_t pid = -1;  // -1: every task on `cpu`; 0: the calling thread; N: that process
  int cpu = -1;    // -1: wherever the process runs (needs pid >= 0)
  bool inherit = false;
  bool disabled = false;
  bool enable_on_exec = false;  // with disabled: start counting at the target's next execve

  [[nodiscard]] std::string Describe() const;  // "pid 123" or "cpu 0", for messages
};

class PerfEvent {
 public:
  // Opens the event; throws emp::Error classified by ErrorFor.
  [[nodiscard]] static std::unique_ptr<PerfEvent> Open(const PerfEventDef& def, const PerfTarget& target);
  // Opens without throwing, for probes: returns 0 and fills *out, or the errno of the failure.
  [[nodiscard]] static int TryOpen(const PerfEventDef& def, const PerfTarget& target, UniqueFd* out) noexcept;
  // The error a failed perf_event_open means: no hardware counters (unsupported), a paranoid
  // setting or missing CAP_PERFMON (permission), or anything else with its errno.
  [[nodiscard]] static Error ErrorFor(const PerfEventDef& def, const PerfTarget& target, int sys_errno);

  ~PerfEvent() = default;
  PerfEvent(const PerfEvent&) = delete;
  PerfEvent& operator=(const PerfEvent&) = delete;
  PerfEvent(PerfEvent&&) = delete;
  PerfEvent& operator=(PerfEvent&&) = delete;

  // Hot-path safe: one read() syscall, no allocation. Works after the counted task has exited.
  [[nodiscard]] bool Read(PerfReading* out) const noexcept;
  [[nodiscard]] const PerfEventDef& def() const noexcept { return *def_; }

 private:
  PerfEvent(const PerfEventDef& def, UniqueFd fd) noexcept;

  const PerfEventDef* def_;  // points into the static table
  UniqueFd fd_;
};

// Events counted as one group on one target, read together (PERF_FORMAT_GROUP): one read() returns
// every count, and the kernel puts them on the PMU together, so they share enabled and running times
// and their ratios (instructions per cycle) describe the same moments. The kernel refuses grouping
// with `inherit`, so groups count CPUs, not process trees.
class PerfGroup {
 public:
  static constexpr size_t kMaxEvents = 16;

  explicit PerfGroup(const PerfTarget& target) noexcept : target_(target) {}
  PerfGroup(PerfGroup&&) noexcept = default;
  PerfGroup& operator=(PerfGroup&&) noexcept = default;

  // Adds an event; the first becomes the leader. Returns 0, or the errno of perf_event_open: EINVAL
  // when the PMU cannot count this event together with the others (open another group for it).
  [[nodiscard]] int TryAdd(const PerfEventDef& def) noexcept;
  // Closes the last event added, which the kernel takes out of the group.
  void RemoveLast() noexcept;
  [[nodiscard]] size_t size() const noexcept { return fds_.size(); }
  [[nodiscard]] const PerfTarget& target() const noexcept { return target_; }

  // Hot-path safe: one read() syscall, no allocation; out[j] for the j-th event added.
  [[nodiscard]] bool Read(PerfReading* out) const noexcept;

 private:
  PerfTarget target_;
  std::vector<UniqueFd> fds_;  // fds_[0] leads
};

}  // namespace emp
