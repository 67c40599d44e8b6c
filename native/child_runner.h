// Starts the measured command from the addon: per-process perf counters are attached before
// exec, and start and end are timestamped on CLOCK_MONOTONIC, the sampler's clock.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "perf_event.h"
#include "unique_fd.h"

namespace emp {

enum class StdioMode { kInherit, kIgnore, kFile };

struct StdioSpec {
  StdioMode mode = StdioMode::kInherit;
  std::string path;  // kFile only
};

struct SpawnOptions {
  std::string file;               // a name looked up in PATH, or a path
  std::vector<std::string> args;  // after argv[0], which is `file` as given
  bool inherit_env = true;
  std::vector<std::string> env;  // "KEY=value", used when !inherit_env
  std::string cwd;               // empty: the parent's
  std::array<StdioSpec, 3> stdio;
  std::vector<std::string> counters;  // perf event names
};

// A counter that could not be attached; the command runs without it.
struct SkippedCounter {
  std::string name;
  std::string code;  // "E_UNSUPPORTED"
  std::string reason;
};

struct CounterValue {
  std::string name;
  PerfReading reading;
  bool read_ok = false;
};

struct ChildExit {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // 0 when it exited
  int64_t end_ns = 0;  // CLOCK_MONOTONIC right after waitid returned
  std::vector<CounterValue> counters;
};

class ChildRunner {
 public:
  // Forks, attaches the counters, lets the child exec and returns once exec succeeded. Throws
  // emp::Error: kSpawn when the command cannot be started, kInvalidArgument for bad options,
  // kPermission when a counter is refused. Blocks the caller only until exec (milliseconds).
  [[nodiscard]] static std::shared_ptr<ChildRunner> Spawn(const SpawnOptions& options);

  // A child nobody waited for is killed and reaped, so it never outlives its owner as a zombie.
  ~ChildRunner();
  ChildRunner(const ChildRunner&) = delete;
  ChildRunner& operator=(const ChildRunner&) = delete;
  ChildRunner(ChildRunner&&) = delete;
  ChildRunner& operator=(ChildRunner&&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] int64_t start_ns() const noexcept { return start_ns_; }
  [[nodiscard]] const std::vector<SkippedCounter>& skipped() const noexcept { return skipped_; }

  // True once; later calls return false, so that only one thread ever reaps the child.
  [[nodiscard]] bool ClaimWait() noexcept;
  // Blocks until the child exits (call from a worker thread, after ClaimWait), reaps it,
  // timestamps the end and reads the counters' final values.
  [[nodiscard]] ChildExit Wait();
  // pidfd_send_signal, which can never reach a recycled pid. Returns 0, ESRCH when the child
  // has already exited, or the errno of the failure (EINVAL for a bad signal number).
  [[nodiscard]] int Kill(int signal) noexcept;

 private:
  ChildRunner(pid_t pid, UniqueFd pidfd, int64_t start_ns, std::vector<std::unique_ptr<PerfEvent>> events,
              std::vector<SkippedCounter> skipped) noexcept;

  pid_t pid_;
  UniqueFd pidfd_;
  int64_t start_ns_;
  std::vector<std::unique_ptr<PerfEvent>> events_;
  std::vector<SkippedCounter> skipped_;
  std::atomic<bool> wait_claimed_{false};
  std::atomic<bool> reaped_{false};
};

}  // namespace emp
