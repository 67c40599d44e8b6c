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

// The perf_event_open syscall (no group, close-on-exec): an fd, or -1 with errno set.
[[nodiscard]] int PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu) noexcept;

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

}  // namespace emp
