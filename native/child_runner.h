// Starts the measured command from the addon: per-process perf counters are attached before
// exec, and start and end are timestamped on CLOCK_MONOTONIC, the sampler's clock.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perf_event.h"
#include "process_tree.h"
#include "unique_fd.h"

namespace emp {

// kStderr (stdout only): the command's stdout is emp's stderr, so emp's own stdout carries only
// what emp prints (the JSON summary a script parses).
enum class StdioMode { kInherit, kIgnore, kFile, kStderr };

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
  ContainmentMode containment = ContainmentMode::kAuto;
  // The run ends when the whole tree has ended, not when the direct child exits.
  bool wait_descendants = false;
  // Descendants still alive when the direct child exits get SIGTERM, then SIGKILL after this.
  int64_t kill_grace_ns = 2'000'000'000;
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
  // CLOCK_MONOTONIC right after waitid returned, or, waiting for descendants, when the tree emptied.
  int64_t end_ns = 0;
  // Descendants still alive when the direct child exited (ended by emp, or waited for).
  size_t descendants = 0;
  // Some of them outlived SIGKILL's wait (a process stuck in the kernel): the tree is not empty.
  bool tree_left = false;
  std::optional<int64_t> tree_cpu_ns;  // the cgroup's cpu.stat usage, every process of the tree
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
  // Blocks until the child exits (call from a worker thread, after ClaimWait), reaps it and
  // timestamps the end; then ends the descendants still alive (or waits for them), and reads the
  // counters' final values, which include every descendant's once the tree is empty.
  [[nodiscard]] ChildExit Wait();
  // Signals the child (by pidfd, which can never reach a recycled pid) and every process of its
  // tree. Returns 0, ESRCH when nothing of the tree is left, or EINVAL for a bad signal number.
  [[nodiscard]] int Kill(int signal) noexcept;
  // At process exit: SIGKILL to the tree, a short wait for it to go, and emp's cgroup removed.
  void Abandon() noexcept;

  [[nodiscard]] const ProcessTree& tree() const noexcept { return *tree_; }

 private:
  ChildRunner(pid_t pid, UniqueFd pidfd, std::unique_ptr<ProcessTree> tree, const SpawnOptions& options,
              int64_t start_ns, std::vector<std::unique_ptr<PerfEvent>> events,
              std::vector<SkippedCounter> skipped) noexcept;
  void EndTree(ChildExit& exit) noexcept;

  pid_t pid_;
  UniqueFd pidfd_;
  std::unique_ptr<ProcessTree> tree_;
  bool wait_descendants_;
  int64_t kill_grace_ns_;
  int64_t start_ns_;
  std::vector<std::unique_ptr<PerfEvent>> events_;
  std::vector<SkippedCounter> skipped_;
  std::atomic<bool> wait_claimed_{false};
  std::atomic<bool> reaped_{false};
};

}  // namespace emp
