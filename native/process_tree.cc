#include "process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

#include "clock.h"
#include "errors.h"
#include "sysfs.h"

namespace emp {

namespace {

// Real paths on purpose: EMP_PROCFS_ROOT points sensors at fixtures, but the processes to contain
// are this machine's.
constexpr const char* kSelfMountInfo = "/proc/self/mountinfo";
constexpr const char* kSelfCgroup = "/proc/self/cgroup";

constexpr int64_t kPollNs = 1'000'000;
// A process group has no "emptied" notification: between kill(-pgid, 0) checks, the slower scan of
// /proc that tells live members from zombies runs this often.
constexpr int64_t kZombieScanNs = 50'000'000;

struct DirCloser {
  void operator()(DIR* dir) const noexcept { closedir(dir); }
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const char a = field[i + 1], b = field[i + 2], c = field[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

struct CgroupLocation {
  std::string mount;     // where the cgroup2 hierarchy is mounted
  std::string relative;  // emp's cgroup as /proc/<pid>/cgroup names it ("/" for the root)
  std::string reason;    // why none, when mount is empty
};

CgroupLocation LocateCgroup() {
  CgroupLocation where;
  auto cgroups = sysfs::ReadText(kSelfCgroup);
  if (!cgroups) {
    where.reason = std::string("cannot read ") + kSelfCgroup;
    return where;
  }
  std::string relative;
  bool found = false;
  std::istringstream lines(*cgroups);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) == 0) {
      relative = line.substr(3);
      found = true;
    }
  }
  if (!found) {
    where.reason = "this process is in no cgroup v2 hierarchy (cgroup v1 only)";
    return where;
  }
  auto mounts = sysfs::ReadText(kSelfMountInfo);
  if (!mounts) {
    where.reason = std::string("cannot read ") + kSelfMountInfo;
    return where;
  }
  std::istringstream mount_lines(*mounts);
  for (std::string line; std::getline(mount_lines, line);) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    root = UnescapeMountField(root);
    // A mount of a subtree (inside a container) shows cgroups relative to its own root.
    std::string inside = relative;
    if (root != "/") {
      if (inside.rfind(root, 0) != 0) continue;
      inside = inside.substr(root.size());
      if (inside.empty()) inside = "/";
    }
    where.mount = UnescapeMountField(mount_point) + (inside == "/" ? "" : inside);
    where.relative = relative;
    return where;
  }
  where.reason = "no cgroup2 file system is mounted";
  return where;
}

// Writes `text` to an existing control file; 0 or the errno.
int WriteControl(const std::string& path, const std::string& text) noexcept {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.Valid()) return errno;
  ssize_t n;
  do {
    n = ::write(fd.Get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
}

std::string MakeError(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

// Reads the pids listed in a cgroup.procs file.
std::vector<pid_t> ReadPids(const std::string& path) {
  std::vector<pid_t> pids;
  auto text = sysfs::ReadText(path);
  if (!text) return pids;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    uint64_t value = 0;
    if (ParseU64(line.data(), line.size(), &value) && value > 0 && value < (uint64_t{1} << 31)) {
      pids.push_back(static_cast<pid_t>(value));
    }
  }
  return pids;
}

// State and process group of /proc/<pid>/stat; false when the process is gone.
bool StatOf(const std::string& pid, char* state, long long* pgrp) {
  auto text = sysfs::ReadText("/proc/" + pid + "/stat");
  if (!text) return false;
  // The command name may hold spaces and parentheses: fields resume after the last ')'.
  const size_t close = text->rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text->substr(close + 1));
  long long ppid = 0;
  return static_cast<bool>(fields >> *state >> ppid >> *pgrp);
}

void SleepNs(int64_t ns) noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// The pid in a cgroup name emp gives ("emp-<pid>-<n>", both numbers), or 0 for any other name.
pid_t OwnerOf(const std::string& name) {
  const size_t dash = name.find('-', 4);
  if (name.rfind("emp-", 0) != 0 || dash == std::string::npos || dash == 4 || dash + 1 == name.size()) return 0;
  for (size_t i = 4; i < name.size(); ++i) {
    if (i != dash && (name[i] < '0' || name[i] > '9')) return 0;
  }
  uint64_t pid = 0;
  if (!ParseU64(name.data() + 4, dash - 4, &pid)) return 0;
  return pid > 0 && pid < (uint64_t{1} << 31) ? static_cast<pid_t>(pid) : 0;
}

// Empties (cgroup.kill) and removes the cgroups of emps that no longer live (see FindCgroupSupport);
// returns the processes ended.
size_t EndOrphanedCgroups(const std::string& parent) {
  size_t ended = 0;
  for (const auto& name : sysfs::ListDir(parent)) {
    const pid_t owner = OwnerOf(name);
    if (owner == 0 || owner == ::getpid() || ::kill(owner, 0) == 0 || errno == EPERM) continue;
    const std::string path = parent + "/" + name;
    ended += ReadPids(path + "/cgroup.procs").size();
    (void)WriteControl(path + "/cgroup.kill", "1");
    for (int i = 0; i < 1000 && ::rmdir(path.c_str()) < 0 && errno == EBUSY; ++i) SleepNs(kPollNs);
  }
  return ended;
}

}  // namespace

const char* ContainmentKindName(ContainmentKind kind) noexcept {
  return kind == ContainmentKind::kCgroup ? "cgroup" : "process-group";
}

std::optional<ContainmentMode> ParseContainmentMode(const std::string& text) noexcept {
  if (text == "auto") return ContainmentMode::kAuto;
  if (text == "cgroup") return ContainmentMode::kCgroup;
  if (text == "process-group") return ContainmentMode::kProcessGroup;
  return std::nullopt;
}

CgroupSupport FindCgroupSupport() {
  CgroupLocation where = LocateCgroup();
  if (where.mount.empty()) return {{}, where.reason};
  // Only making a directory proves the hierarchy is writable (access() ignores a read-only mount
  // and delegation rules): one is made and removed at once.
  const std::string probe = where.mount + "/emp-probe-" + std::to_string(::getpid());
  if (::mkdir(probe.c_str(), 0755) < 0 && errno != EEXIST) {
    return {{}, MakeError("cannot create a cgroup in", where.mount, errno)};
  }
  ::rmdir(probe.c_str());
  return {where.mount, {}, EndOrphanedCgroups(where.mount)};
}

std::unique_ptr<ProcessTree> ProcessTree::Prepare(ContainmentMode mode) {
  std::string reason = "a process group was asked for";
  if (mode != ContainmentMode::kProcessGroup) {
    CgroupLocation where = LocateCgroup();
    reason = where.reason;
    if (!where.mount.empty()) {
      static std::atomic<uint64_t> sequence{0};
      const std::string name = "emp-" + std::to_string(::getpid()) + "-" + std::to_string(++sequence);
      const std::string path = where.mount + "/" + name;
      if (::mkdir(path.c_str(), 0755) == 0) {
        return std::unique_ptr<ProcessTree>(new ProcessTree(mode, ContainmentKind::kCgroup, path, {}));
      }
      reason = MakeError("cannot create a cgroup in", where.mount, errno);
    }
    if (mode == ContainmentMode::kCgroup) {
      throw Error(ErrorCode::kUnsupported, "cannot contain the command in a cgroup: " + reason, 0, where.mount,
                  "run as root on a cgroup v2 (unified) mount, or in a delegated subtree; or use process-group");
    }
  }
  return std::unique_ptr<ProcessTree>(new ProcessTree(mode, ContainmentKind::kProcessGroup, {}, reason));
}

ProcessTree::ProcessTree(ContainmentMode mode, ContainmentKind kind, std::string path, std::string reason) noexcept
    : mode_(mode), kind_(kind), path_(std::move(path)), reason_(std::move(reason)) {}

ProcessTree::~ProcessTree() {
  if (kind_ == ContainmentKind::kCgroup) {
    if (removed_.load()) return;
    if (CgroupPopulated()) {
      (void)Signal(SIGKILL);
      (void)WaitEmpty(1'000'000'000);
    }
    Remove();
  } else if (pgid_ > 0 && !ended_.load() && CountLive() > 0) {
    (void)Signal(SIGKILL);
  }
}

void ProcessTree::Adopt(pid_t pid) {
  pgid_ = pid;
  if (kind_ != ContainmentKind::kCgroup) return;
  const int err = WriteControl(path_ + "/cgroup.procs", std::to_string(pid));
  if (err == 0) return;
  std::string reason = MakeError("cannot move the command into", path_, err);
  if (mode_ == ContainmentMode::kCgroup) {
    throw Error(ErrorCode::kUnsupported, "cannot contain the command in a cgroup: " + reason, err, path_,
                "run emp in a cgroup without controllers of its own (a leaf), or use process-group");
  }
  FallBack(std::move(reason));
}

void ProcessTree::FallBack(std::string reason) noexcept {
  ::rmdir(path_.c_str());  // made by Prepare a moment ago, and empty
  path_.clear();
  kind_ = ContainmentKind::kProcessGroup;
  reason_ = std::move(reason);
}

namespace {
// Whether cgroup.events, open as `events`, says a live process is in the cgroup. Reading it also
// re-arms its POLLPRI notification. Unreadable: the directory is gone, so nothing is left in it.
bool Populated(const UniqueFd& events) noexcept {
  char buf[256];
  const ssize_t n = events.Valid() ? events.PreadAt(buf, sizeof buf - 1, 0) : -1;
  if (n <= 0) return false;
  buf[n] = '\0';
  return std::strstr(buf, "populated 1") != nullptr;
}
}  // namespace

bool ProcessTree::CgroupPopulated() const noexcept {
  return Populated(UniqueFd::OpenReadOnly(path_ + "/cgroup.events"));
}

size_t ProcessTree::CountLive() const noexcept {
  try {
    if (kind_ == ContainmentKind::kCgroup) return ReadPids(path_ + "/cgroup.procs").size();
    if (pgid_ <= 0 || ended_.load()) return 0;
    std::unique_ptr<DIR, DirCloser> proc(::opendir("/proc"));
    if (!proc) return 0;
    size_t live = 0;
    while (dirent* entry = ::readdir(proc.get())) {
      if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
      char state = 0;
      long long pgrp = 0;
      // A process that ends between the listing and the read is simply not counted.
      if (StatOf(entry->d_name, &state, &pgrp) && pgrp == pgid_ && state != 'Z' && state != 'X') ++live;
    }
    return live;
  } catch (...) {
    return 0;
  }
}

bool ProcessTree::Signal(int signal) noexcept {
  if (signal < 0 || signal >= NSIG) return false;
  if (kind_ == ContainmentKind::kProcessGroup) {
    if (pgid_ <= 0 || ended_.load()) return false;
    return ::kill(-pgid_, signal) == 0;
  }
  if (removed_.load()) return false;
  if (signal == SIGKILL && WriteControl(path_ + "/cgroup.kill", "1") == 0) return CgroupPopulated();
  // Other signals (and SIGKILL before Linux 5.14) go to each member. A pid read from cgroup.procs
  // may end and be reused before the signal: pinned by a pidfd first, and signalled only if the
  // pinned process is still in this cgroup, no other process can be hit.
  bool any = false;
  try {
    for (pid_t pid : ReadPids(path_ + "/cgroup.procs")) {
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
      if (!pidfd.Valid()) continue;
      bool member = false;
      for (pid_t again : ReadPids(path_ + "/cgroup.procs")) member |= again == pid;
      if (member && ::syscall(SYS_pidfd_send_signal, pidfd.Get(), signal, nullptr, 0) == 0) any = true;
    }
  } catch (...) {
    // Out of memory while listing: nothing more can be signalled.
  }
  return any;
}

bool ProcessTree::WaitEmpty(int64_t timeout_ns) noexcept {
  const int64_t start = MonotonicNowNs();
  int64_t next_scan = start;
  UniqueFd events;
  if (kind_ == ContainmentKind::kCgroup) events = UniqueFd::OpenReadOnly(path_ + "/cgroup.events");
  for (;;) {
    const int64_t now = MonotonicNowNs();
    bool empty;
    if (kind_ == ContainmentKind::kCgroup) {
      empty = !Populated(events);
    } else if (pgid_ <= 0 || ended_.load() || (::kill(-pgid_, 0) < 0 && errno == ESRCH)) {
      empty = true;
    } else {
      // kill(-pgid, 0) also finds zombies whose parent has not reaped them yet.
      empty = false;
      if (now >= next_scan) {
        empty = CountLive() == 0;
        next_scan = now + kZombieScanNs;
      }
    }
    if (empty) {
      ended_.store(true);
      return true;
    }
    const int64_t left_ns = timeout_ns < 0 ? INT64_MAX : timeout_ns - (now - start);
    if (left_ns <= 0) return false;
    if (kind_ == ContainmentKind::kCgroup) {
      // cgroup.events wakes pollers (POLLPRI) when "populated" changes: the end is seen at once,
      // not at the next tick of a polling loop. The 100 ms cap only bounds a missed wake-up.
      pollfd p{events.Get(), POLLPRI, 0};
      (void)::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left_ns / 1'000'000, 1, 100)));
    } else {
      SleepNs(std::clamp<int64_t>(left_ns, 100'000, kPollNs));
    }
  }
}

std::optional<int64_t> ProcessTree::CpuUsageNs() const noexcept {
  if (kind_ != ContainmentKind::kCgroup) return std::nullopt;
  try {
    auto text = sysfs::ReadText(path_ + "/cpu.stat");
    if (!text) return std::nullopt;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      uint64_t usec = 0;
      if (line.rfind("usage_usec ", 0) == 0 && ParseU64(line.data() + 11, line.size() - 11, &usec)) {
        return static_cast<int64_t>(usec) * 1000;
      }
    }
  } catch (...) {
  }
  return std::nullopt;
}

void ProcessTree::Remove() noexcept {
  if (kind_ != ContainmentKind::kCgroup || removed_.exchange(true)) return;
  // EBUSY: something still lives in it; the destructor tries again after ending it.
  if (::rmdir(path_.c_str()) < 0 && errno == EBUSY) removed_.store(false);
}

}  // namespace emp
