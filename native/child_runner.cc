#include "child_runner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "clock.h"
#include "errors.h"

extern char** environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace emp {

namespace {

enum class ChildStage : int32_t { kNone = 0, kStdio, kCwd, kExec };

// What the child reports through the status pipe; each message is one write below PIPE_BUF,
// so it arrives whole. A message without an errno is the start timestamp, sent just before
// execve; a message with one is a failure; EOF after the first means exec succeeded.
struct ChildMessage {
  int64_t start_ns;
  int32_t sys_errno;
  int32_t stage;
  int32_t stdio_index;
  int32_t unused;
};

// Everything the child needs, built before fork: after fork only async-signal-safe calls run.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: stay
  int stdio[3];     // -1: inherit
  int go_read;
  int go_write;
  int status_read;
  int status_write;
  pid_t parent_pid;
};

void WriteMessage(int fd, const ChildMessage& msg) noexcept {
  ssize_t n;
  do {
    n = ::write(fd, &msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
}

[[noreturn]] void Fail(const ChildPlan& plan, int64_t start_ns, ChildStage stage, int stdio_index) noexcept {
  const ChildMessage msg{start_ns, errno, static_cast<int32_t>(stage), stdio_index, 0};
  WriteMessage(plan.status_write, msg);
  ::_exit(127);
}

[[noreturn]] void RunChild(const ChildPlan& plan) noexcept {
  // A process group of its own, so the tree can be signalled whole; and death with emp: the
  // kernel sends SIGKILL when the thread that forked it ends, even if emp is killed outright.
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent_pid) ::_exit(126);  // emp died before the prctl took effect
  // Descriptors opened elsewhere in emp without O_CLOEXEC (by a library, another thread) must not
  // reach the command. Linux 5.11+; on older kernels the call fails and nothing changes.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  // Node ignores SIGPIPE and the parent blocked every signal around fork; an ignored signal
  // stays ignored across exec, so the command gets the defaults a shell would give it.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  ::close(plan.go_write);  // else the parent's death would never reach the read below
  ::close(plan.status_read);
  char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.go_read, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(126);  // the parent gave up (a counter could not be attached)

  for (int i = 0; i < 3; ++i) {
    const int fd = plan.stdio[i];
    if (fd < 0) {
      // Node marks its own 0-2 close-on-exec, so an inherited stream must be cleared here or
      // exec would close it. Only this process's fd table changes; the parent keeps its flags.
      ::fcntl(i, F_SETFD, 0);
      continue;
    }
    // dup2 onto itself would keep O_CLOEXEC, and exec would then close the stream.
    const int rc = fd == i ? ::fcntl(fd, F_SETFD, 0) : ::dup2(fd, i);
    if (rc < 0) Fail(plan, 0, ChildStage::kStdio, i);
  }
  if (plan.cwd != nullptr && ::chdir(plan.cwd) < 0) Fail(plan, 0, ChildStage::kCwd, -1);

  // The start of the run on the sampler's clock: counters are enabled by the execve below.
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const int64_t start_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  WriteMessage(plan.status_write, ChildMessage{start_ns, 0, 0, -1, 0});
  ::execve(plan.path, plan.argv, plan.envp);
  Fail(plan, start_ns, ChildStage::kExec, -1);
}

// Owns a forked child until it is handed to a ChildRunner: on any error path it kills and
// reaps it, so a failed spawn leaves neither a stray process nor a zombie.
class ForkedChild {
 public:
  explicit ForkedChild(pid_t pid) noexcept : pid_(pid) {}
  ~ForkedChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);  // not yet reaped, so the pid cannot have been recycled
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  ForkedChild(ForkedChild&&) = delete;
  ForkedChild& operator=(ForkedChild&&) = delete;
  void Release() noexcept { pid_ = -1; }

 private:
  pid_t pid_;
};

// Restores the thread's signal mask on scope exit.
class BlockAllSignals {
 public:
  BlockAllSignals() noexcept {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockAllSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;
  BlockAllSignals(BlockAllSignals&&) = delete;
  BlockAllSignals& operator=(BlockAllSignals&&) = delete;

 private:
  sigset_t saved_;
};

constexpr const char* kStreamNames[3] = {"stdin", "stdout", "stderr"};

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// execvp's search, done in the parent so that "not found" needs no fork and the child only
// calls execve. PATH comes from the child's environment when it has one.
std::string ResolveCommand(const std::string& file, const std::string& path_var) {
  if (file.find('/') != std::string::npos) return file;
  size_t begin = 0;
  for (;;) {
    const size_t end = path_var.find(':', begin);
    std::string dir = path_var.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + file;
    if (IsExecutableFile(candidate)) return candidate;
    if (end == std::string::npos) return {};
    begin = end + 1;
  }
}

std::string PathOf(const SpawnOptions& options) {
  if (!options.inherit_env) {
    for (const auto& entry : options.env) {
      if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
    }
    return "/usr/local/bin:/usr/bin:/bin";
  }
  const char* path = std::getenv("PATH");
  return path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
}

Error SpawnError(const std::string& message, int sys_errno, const std::string& path, std::string suggestion = {}) {
  std::string text = message;
  if (sys_errno != 0) text += std::string(": ") + std::strerror(sys_errno);
  return Error(ErrorCode::kSpawn, text, sys_errno, path, std::move(suggestion));
}

Error NotFound(const std::string& file, const std::string& path_var) {
  return Error(ErrorCode::kSpawn, "command not found: " + file, ENOENT, file,
               "check the spelling or install it, or give its full path (searched PATH=" + path_var + ")");
}

// Opens what a stream is redirected to, before fork. Node keeps fds 0-2 open (it opens
// /dev/null on them when they start closed), so these never land on a standard stream.
UniqueFd OpenStdio(const StdioSpec& spec, int index) {
  if (spec.mode == StdioMode::kInherit) return UniqueFd();
  const bool input = index == 0;
  const std::string path = spec.mode == StdioMode::kIgnore ? "/dev/null" : spec.path;
  const int flags = O_CLOEXEC | (input ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC);
  UniqueFd fd(::open(path.c_str(), flags, 0644));
  if (!fd.Valid()) {
    throw SpawnError(std::string("cannot open ") + path + " for the command's " + kStreamNames[index], errno, path);
  }
  return fd;
}

ssize_t ReadMessage(const UniqueFd& fd, ChildMessage* msg) noexcept {
  ssize_t n;
  do {
    n = ::read(fd.Get(), msg, sizeof *msg);
  } while (n < 0 && errno == EINTR);
  return n;
}

Error ChildFailure(const ChildMessage& msg, const SpawnOptions& options, const std::string& path) {
  const int err = msg.sys_errno;
  switch (static_cast<ChildStage>(msg.stage)) {
    case ChildStage::kStdio: {
      const int i = msg.stdio_index >= 0 && msg.stdio_index < 3 ? msg.stdio_index : 0;
      return SpawnError(std::string("cannot redirect the command's ") + kStreamNames[i], err,
                        options.stdio[static_cast<size_t>(i)].path);
    }
    case ChildStage::kCwd:
      return SpawnError("cannot change to the working directory " + options.cwd, err, options.cwd,
                        "check that the directory exists and is searchable");
    default: break;
  }
  if (err == ENOENT) return NotFound(options.file, PathOf(options));
  if (err == EACCES) {
    return SpawnError("permission denied executing " + path, err, path, "make it executable (`chmod +x " + path + "`)");
  }
  if (err == ENOEXEC) {
    return SpawnError("cannot execute " + path, err, path, "a script needs a #! line naming its interpreter");
  }
  return SpawnError("cannot execute " + path, err, path);
}

// Every child not yet reaped, process-wide. process.exit() skips the environments' teardown
// (and so the Addon's), but runs atexit handlers: KillAll there means no measured command
// outlives emp. Never destroyed, so a waiting thread that wakes during exit still finds it.
class LiveChildren {
 public:
  LiveChildren() = default;
  LiveChildren(const LiveChildren&) = delete;
  LiveChildren& operator=(const LiveChildren&) = delete;
  LiveChildren(LiveChildren&&) = delete;
  LiveChildren& operator=(LiveChildren&&) = delete;

  void Add(ChildRunner* child) {
    std::lock_guard<std::mutex> lock(mutex_);
    children_.push_back(child);
  }
  void Remove(ChildRunner* child) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    children_.erase(std::remove(children_.begin(), children_.end(), child), children_.end());
  }
  void KillAll() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (ChildRunner* child : children_) child->Abandon();
  }

 private:
  std::mutex mutex_;
  std::vector<ChildRunner*> children_;
};

LiveChildren& Live() {
  static LiveChildren* live = [] {
    auto* registry = new LiveChildren;
    std::atexit([] { Live().KillAll(); });
    return registry;
  }();
  return *live;
}

}  // namespace

std::shared_ptr<ChildRunner> ChildRunner::Spawn(const SpawnOptions& options) {
  if (options.file.empty()) throw Error(ErrorCode::kInvalidArgument, "the command to run is empty");
  std::vector<const PerfEventDef*> counter_defs;
  for (const auto& name : options.counters) {
    const PerfEventDef* def = FindPerfEvent(name);
    if (def == nullptr) {
      throw Error(ErrorCode::kInvalidArgument, "unknown perf event: " + name, 0, {},
                  "choose from: " + PerfEventNames());
    }
    counter_defs.push_back(def);
  }

  const std::string path_var = PathOf(options);
  const std::string path = ResolveCommand(options.file, path_var);
  if (path.empty()) throw NotFound(options.file, path_var);
  if (!options.cwd.empty()) {
    struct stat st;
    if (::stat(options.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw SpawnError("the working directory does not exist: " + options.cwd, errno, options.cwd,
                       "create it, or pass an existing directory as cwd");
    }
  }

  // argv and envp as arrays of pointers into strings that outlive the fork.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(options.file);
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_storage;
  if (options.inherit_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_storage.emplace_back(*e);
  } else {
    env_storage = options.env;
  }
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  // Made before fork so that the child is in its cgroup before it execs; a failure under "auto"
  // leaves a process group.
  std::unique_ptr<ProcessTree> tree = ProcessTree::Prepare(options.containment);

  std::array<UniqueFd, 3> stdio_fds;
  int stdio_raw[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    const StdioSpec& spec = options.stdio[static_cast<size_t>(i)];
    // stdout and stderr into one file share one open file, so their writes interleave instead
    // of overwriting each other from two offsets.
    if (i == 2 && spec.mode == StdioMode::kFile && options.stdio[1].mode == StdioMode::kFile &&
        spec.path == options.stdio[1].path) {
      stdio_raw[2] = stdio_raw[1];
      continue;
    }
    if (spec.mode == StdioMode::kStderr) {
      stdio_raw[i] = STDERR_FILENO;  // emp's own, inherited by the child and dup2'd onto its stdout
      continue;
    }
    stdio_fds[static_cast<size_t>(i)] = OpenStdio(spec, i);
    stdio_raw[i] = stdio_fds[static_cast<size_t>(i)].Get();
  }

  int go[2];
  int status[2];
  if (::pipe2(go, O_CLOEXEC) < 0) throw SpawnError("cannot create a pipe", errno, {});
  UniqueFd go_read(go[0]);
  UniqueFd go_write(go[1]);
  if (::pipe2(status, O_CLOEXEC) < 0) throw SpawnError("cannot create a pipe", errno, {});
  UniqueFd status_read(status[0]);
  UniqueFd status_write(status[1]);

  const ChildPlan plan{path.c_str(),
                       argv.data(),
                       envp.data(),
                       options.cwd.empty() ? nullptr : options.cwd.c_str(),
                       {stdio_raw[0], stdio_raw[1], stdio_raw[2]},
                       go_read.Get(),
                       go_write.Get(),
                       status_read.Get(),
                       status_write.Get(),
                       ::getpid()};
  pid_t pid;
  {
    // No signal handler of this process may run in the child between fork and exec.
    BlockAllSignals blocked;
    pid = ::fork();
    if (pid == 0) RunChild(plan);
  }
  if (pid < 0) throw SpawnError("cannot fork", errno, {});
  ForkedChild guard(pid);
  // Also here: whichever of the two runs first, the group exists before the child is adopted.
  (void)::setpgid(pid, pid);
  tree->Adopt(pid);
  go_read.Reset();
  status_write.Reset();  // else the exec's close of the child's copy would never show as EOF

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.Valid()) throw SpawnError("pidfd_open failed (Linux 5.3 or newer is needed)", errno, {});

  // Attached while the child waits for "go": disabled now, enabled by the kernel at execve, so
  // the counts cover the command and nothing of the fork or of emp.
  std::vector<std::unique_ptr<PerfEvent>> events;
  std::vector<SkippedCounter> skipped;
  const PerfTarget target{.pid = pid, .cpu = -1, .inherit = true, .disabled = true, .enable_on_exec = true};
  for (const PerfEventDef* def : counter_defs) {
    try {
      events.push_back(PerfEvent::Open(*def, target));
    } catch (const Error& error) {
      // A machine without the counter still measures the rest; a permission problem is the
      // user's to fix and stops the spawn (the guard kills the waiting child).
      if (error.code() != ErrorCode::kUnsupported) throw;
      skipped.push_back({def->name, ErrorCodeName(error.code()), error.what()});
    }
  }

  const char go_byte = 1;
  ssize_t written;
  do {
    written = ::write(go_write.Get(), &go_byte, 1);
  } while (written < 0 && errno == EINTR);
  go_write.Reset();

  ChildMessage msg{};
  if (ReadMessage(status_read, &msg) != static_cast<ssize_t>(sizeof msg)) {
    throw SpawnError("the command " + options.file + " died before it could start", 0, path);
  }
  if (msg.sys_errno != 0) throw ChildFailure(msg, options, path);
  const int64_t start_ns = msg.start_ns;
  const ssize_t n = ReadMessage(status_read, &msg);
  if (n == static_cast<ssize_t>(sizeof msg)) throw ChildFailure(msg, options, path);
  if (n != 0) throw SpawnError("cannot read the command's start report", n < 0 ? errno : 0, path);

  guard.Release();
  std::shared_ptr<ChildRunner> child(new ChildRunner(pid, std::move(pidfd), std::move(tree), options, start_ns,
                                                     std::move(events), std::move(skipped)));
  Live().Add(child.get());
  return child;
}

ChildRunner::ChildRunner(pid_t pid, UniqueFd pidfd, std::unique_ptr<ProcessTree> tree, const SpawnOptions& options,
                         int64_t start_ns, std::vector<std::unique_ptr<PerfEvent>> events,
                         std::vector<SkippedCounter> skipped) noexcept
    : pid_(pid),
      pidfd_(std::move(pidfd)),
      tree_(std::move(tree)),
      wait_descendants_(options.wait_descendants),
      kill_grace_ns_(options.kill_grace_ns),
      start_ns_(start_ns),
      events_(std::move(events)),
      skipped_(std::move(skipped)) {}

ChildRunner::~ChildRunner() {
  Live().Remove(this);
  if (reaped_.load()) return;
  (void)Kill(SIGKILL);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.Get()), &info, WEXITED) < 0 &&
         errno == EINTR) {
  }
}

bool ChildRunner::ClaimWait() noexcept { return !wait_claimed_.exchange(true); }

ChildExit ChildRunner::Wait() {
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.Get()), &info, WEXITED);
  } while (rc < 0 && errno == EINTR);
  ChildExit result;
  // Taken first, before anything else runs, so the end is as close to the exit as a wakeup allows.
  result.end_ns = MonotonicNowNs();
  if (rc < 0) throw ErrnoError(errno, "waitid on the command failed", "pid " + std::to_string(pid_));
  reaped_.store(true);
  if (info.si_code == CLD_EXITED) {
    result.exit_code = info.si_status;
  } else {
    result.signal = info.si_status;
  }
  EndTree(result);
  Live().Remove(this);
  // Inherited events fold each process's count into these at its exit: read once the tree is
  // empty, they hold the whole tree's.
  for (const auto& event : events_) {
    CounterValue value;
    value.name = event->def().name;
    value.read_ok = event->Read(&value.reading);
    result.counters.push_back(value);
  }
  return result;
}

void ChildRunner::EndTree(ChildExit& exit) noexcept {
  exit.descendants = tree_->CountLive();
  if (exit.descendants > 0) {
    if (wait_descendants_) {
      (void)tree_->WaitEmpty(-1);
      exit.end_ns = MonotonicNowNs();
    } else {
      // Left running, they would spend energy in the next run, the cooldown or the baseline.
      (void)tree_->Signal(SIGTERM);
      if (!tree_->WaitEmpty(kill_grace_ns_)) {
        (void)tree_->Signal(SIGKILL);
        exit.tree_left = !tree_->WaitEmpty(5'000'000'000);
      }
    }
  }
  exit.tree_cpu_ns = tree_->CpuUsageNs();
  tree_->Remove();
}

int ChildRunner::Kill(int signal) noexcept {
  if (signal < 0 || signal >= NSIG) return EINVAL;
  bool signalled = false;
  if (!reaped_.load()) signalled = ::syscall(SYS_pidfd_send_signal, pidfd_.Get(), signal, nullptr, 0) == 0;
  signalled |= tree_->Signal(signal);
  return signalled ? 0 : ESRCH;
}

void ChildRunner::Abandon() noexcept {
  (void)Kill(SIGKILL);
  if (tree_->kind() != ContainmentKind::kCgroup) return;
  (void)tree_->WaitEmpty(500'000'000);
  tree_->Remove();
}

}  // namespace emp
