// The measured command's whole process tree: everything it forks belongs to its run and is ended
// with it. Held in a cgroup v2 of emp's own where the hierarchy lets emp make one (a delegated
// subtree, or root on a unified mount), else in a process group.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "unique_fd.h"

namespace emp {

enum class ContainmentMode { kAuto, kCgroup, kProcessGroup };
enum class ContainmentKind { kCgroup, kProcessGroup };

[[nodiscard]] const char* ContainmentKindName(ContainmentKind kind) noexcept;
// "auto", "cgroup", "process-group"; nullopt for anything else.
[[nodiscard]] std::optional<ContainmentMode> ParseContainmentMode(const std::string& text) noexcept;

// Where emp would make its cgroups (the cgroup v2 directory emp itself runs in), or why it cannot.
struct CgroupSupport {
  std::string parent;  // empty when unsupported
  std::string reason;  // why not, when parent is empty
  size_t orphans_ended = 0;
};
// Reads the real /proc/self/mountinfo and /proc/self/cgroup (not EMP_PROCFS_ROOT: containment acts
// on this machine's processes, not on a sensor fixture) and checks that a directory can be made.
// Also ends what runs in the cgroups of an emp that was killed outright (SIGKILL, a crash), which
// could not remove them: its command's leftovers would spend energy in this session's baseline.
// Those are the cgroups named for an emp pid that no longer lives; no other cgroup is touched.
[[nodiscard]] CgroupSupport FindCgroupSupport();

class ProcessTree {
 public:
  // Before fork: a fresh cgroup under FindCgroupSupport's parent when `mode` allows one and it can
  // be made, else a process group. Throws emp::Error (kUnsupported) when kCgroup is asked and none
  // can be made.
  [[nodiscard]] static std::unique_ptr<ProcessTree> Prepare(ContainmentMode mode);

  // Ends whatever is still alive (SIGKILL), waits briefly for it and removes emp's cgroup.
  ~ProcessTree();
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;
  ProcessTree(ProcessTree&&) = delete;
  ProcessTree& operator=(ProcessTree&&) = delete;

  // Parent, after fork and before the child execs: moves `pid` into the cgroup (its descendants
  // follow it there). When that is refused under kAuto, the tree falls back to the process group
  // the child made itself (setpgid), keeping the reason; under kCgroup it throws.
  void Adopt(pid_t pid);

  [[nodiscard]] ContainmentKind kind() const noexcept { return kind_; }
  // The cgroup directory (kCgroup) or empty.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Why a cgroup was not used, when it was not.
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  // Processes of the tree still alive (zombies excluded). Reads files: not for a hot loop.
  [[nodiscard]] size_t CountLive() const noexcept;
  // Sends `signal` to every live process of the tree; true when any was signalled. SIGKILL on a
  // cgroup goes through cgroup.kill, which reaches every member at once, forks included.
  bool Signal(int signal) noexcept;
  // Blocks until no process of the tree is alive or `timeout_ns` passed (< 0: no limit); true when empty.
  [[nodiscard]] bool WaitEmpty(int64_t timeout_ns) noexcept;
  // CPU time of every process that ran in the cgroup (cpu.stat usage_usec), ns; nullopt for a
  // process group or when the kernel does not report it.
  [[nodiscard]] std::optional<int64_t> CpuUsageNs() const noexcept;
  // Removes emp's cgroup once it is empty; later calls do nothing. Never touches any other cgroup.
  void Remove() noexcept;

 private:
  ProcessTree(ContainmentMode mode, ContainmentKind kind, std::string path, std::string reason) noexcept;
  void FallBack(std::string reason) noexcept;
  [[nodiscard]] bool CgroupPopulated() const noexcept;

  ContainmentMode mode_;
  ContainmentKind kind_;
  std::string path_;
  std::string reason_;
  pid_t pgid_ = -1;
  // Set once the tree was seen empty: a process group's id may then be reused, so it is never
  // signalled again.
  std::atomic<bool> ended_{false};
  std::atomic<bool> removed_{false};
};

}  // namespace emp
