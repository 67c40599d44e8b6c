#include "perf_event.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace emp {

namespace {
constexpr const char* kNoPmuReason = "no hardware performance counters (virtual machine or PMU not exposed)";
constexpr const char* kNoPmuFix =
    "run on bare metal, or expose the PMU to the guest (KVM/QEMU `-cpu host` with vPMU on, VMware "
    "\"virtualize CPU performance counters\"); software events (task-clock, context-switches, page-faults) "
    "still work";
constexpr const char* kPermissionFix =
    "counting a process's kernel and user time needs kernel.perf_event_paranoid <= 1 (`sudo sysctl "
    "kernel.perf_event_paranoid=1`), system-wide counting needs <= 0; or grant CAP_PERFMON (`sudo setcap "
    "cap_perfmon+ep \"$(command -v node)\"`) or run as root";
// The attributes of one counted event; read_format is the caller's.
perf_event_attr AttrFor(const PerfEventDef& def, const PerfTarget& target) noexcept {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = def.type;
  attr.config = def.config;
  attr.disabled = target.disabled ? 1 : 0;
  attr.inherit = target.inherit ? 1 : 0;
  attr.enable_on_exec = target.enable_on_exec ? 1 : 0;
  // Kernel time is part of what a program costs, so it is counted; that is why the paranoid
  // level matters even for one's own child.
  return attr;
}

uint64_t ScaledCount(uint64_t value, uint64_t enabled_ns, uint64_t running_ns) noexcept {
  if (running_ns == 0) return 0;
  if (running_ns >= enabled_ns) return value;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(value) * enabled_ns / running_ns);
}

// read() of a perf fd, retried on a signal; the byte count, or -1.
ssize_t ReadCounts(int fd, uint64_t* buf, size_t bytes) noexcept {
  ssize_t n;
  // perf fds ignore the file offset, so read() is what pread would be, minus the ESPIPE risk.
  do {
    n = ::read(fd, buf, bytes);
  } while (n < 0 && errno == EINTR);
  return n;
}
}  // namespace

int PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group_fd) noexcept {
  return static_cast<int>(::syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC));
}

bool PerfEventDef::hardware() const noexcept { return type == PERF_TYPE_HARDWARE; }

const std::vector<PerfEventDef>& PerfEventTable() {
  static const std::vector<PerfEventDef> table = {
      {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false},
      {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, false},
      {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, false},
      {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, false},
      {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, true},
      {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, true},
      {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false},
      {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false},
      {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, false},
  };
  return table;
}

const PerfEventDef* FindPerfEvent(const std::string& name) noexcept {
  for (const auto& def : PerfEventTable()) {
    if (name == def.name) return &def;
  }
  return nullptr;
}

std::string PerfEventNames() {
  std::string names;
  for (const auto& def : PerfEventTable()) {
    if (!names.empty()) names += ", ";
    names += def.name;
  }
  return names;
}

uint64_t PerfReading::Scaled() const noexcept { return ScaledCount(value, enabled_ns, running_ns); }

std::string PerfTarget::Describe() const {
  if (pid >= 0) return pid == 0 ? std::string("this process") : "pid " + std::to_string(pid);
  return "cpu " + std::to_string(cpu);
}

int PerfEvent::TryOpen(const PerfEventDef& def, const PerfTarget& target, UniqueFd* out) noexcept {
  perf_event_attr attr = AttrFor(def, target);
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  const int fd = PerfEventOpen(&attr, target.pid, target.cpu);
  if (fd < 0) return errno;
  out->Reset(fd);
  return 0;
}

Error PerfEvent::ErrorFor(const PerfEventDef& def, const PerfTarget& target, int sys_errno) {
  const std::string what = std::string("perf event ") + def.name + " (" + target.Describe() + ")";
  const std::string origin = std::string("perf_event_open(") + def.name + ")";
  // A VM without a virtual PMU answers hardware events with ENOENT or EOPNOTSUPP (ENODEV on
  // some hybrid parts): the machine lacks the counters, not the permission.
  if (def.hardware() && (sys_errno == ENOENT || sys_errno == EOPNOTSUPP || sys_errno == ENODEV)) {
    return Error(ErrorCode::kUnsupported, what + ": " + kNoPmuReason, sys_errno, origin, kNoPmuFix);
  }
  if (sys_errno == EACCES || sys_errno == EPERM) {
    return Error(ErrorCode::kPermission, what + ": permission denied (" + std::strerror(sys_errno) + ")", sys_errno,
                 origin, kPermissionFix);
  }
  return ErrnoError(sys_errno, "cannot open " + what, origin);
}

std::unique_ptr<PerfEvent> PerfEvent::Open(const PerfEventDef& def, const PerfTarget& target) {
  UniqueFd fd;
  const int err = TryOpen(def, target, &fd);
  if (err != 0) throw ErrorFor(def, target, err);
  return std::unique_ptr<PerfEvent>(new PerfEvent(def, std::move(fd)));
}

PerfEvent::PerfEvent(const PerfEventDef& def, UniqueFd fd) noexcept : def_(&def), fd_(std::move(fd)) {}

bool PerfEvent::Read(PerfReading* out) const noexcept {
  uint64_t buf[3];
  if (ReadCounts(fd_.Get(), buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) return false;
  out->value = buf[0];
  out->enabled_ns = buf[1];
  out->running_ns = buf[2];
  return true;
}

int PerfGroup::TryAdd(const PerfEventDef& def) noexcept {
  if (fds_.size() >= kMaxEvents) return E2BIG;
  perf_event_attr attr = AttrFor(def, target_);
  attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  // Members follow their leader's enabled state.
  if (!fds_.empty()) attr.disabled = 0;
  const int fd = PerfEventOpen(&attr, target_.pid, target_.cpu, fds_.empty() ? -1 : fds_.front().Get());
  if (fd < 0) return errno;
  fds_.emplace_back(fd);
  return 0;
}

void PerfGroup::RemoveLast() noexcept {
  if (!fds_.empty()) fds_.pop_back();
}

bool PerfGroup::Read(PerfReading* out) const noexcept {
  // { nr, time_enabled, time_running, value[nr] }
  uint64_t buf[3 + kMaxEvents];
  const size_t n = fds_.size();
  const size_t bytes = (3 + n) * sizeof(uint64_t);
  if (n == 0 || ReadCounts(fds_.front().Get(), buf, bytes) != static_cast<ssize_t>(bytes) || buf[0] != n) return false;
  for (size_t j = 0; j < n; ++j) {
    out[j].value = buf[3 + j];
    out[j].enabled_ns = buf[1];
    out[j].running_ns = buf[2];
  }
  return true;
}

}  // namespace emp
