#include "slow_reader.h"

#include <pthread.h>
#include <sys/prctl.h>

#include <cstring>
#include <limits>
#include <system_error>

#include "clock.h"
#include "errors.h"

namespace emp {

namespace {
// Added to a read's expected duration and wake-up delay before its deadline, for their jitter.
constexpr int64_t kLeadMarginNs = 20'000;
// EWMA weight 1/8: a few reads follow a change in the driver's speed, one outlier moves little.
constexpr int kEwmaShift = 3;

void Follow(int64_t* ewma, int64_t sample) noexcept { *ewma += (sample - *ewma) >> kEwmaShift; }
}  // namespace

SlowReader::SlowReader(std::vector<SlowSource> sources) {
  for (const SlowSource& spec : sources) {
    auto slot = std::make_unique<Slot>();
    slot->spec = spec;
    slot->values = spec.source->channels().size();
    slot->published.reset(new std::atomic<uint64_t>[slot->values + 1]());
    slot->buffer.assign(slot->values, 0);
    slot->taken.assign(slot->values + 1, 0);
    slots_.push_back(std::move(slot));
  }
}

SlowReader::~SlowReader() { Stop(); }

void SlowReader::Start() {
  stop_.store(false);
  ready_.store(false);
  t0_ns_.store(0);
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    throw Error(ErrorCode::kIo, std::string("cannot start the slow-source thread: ") + e.what(), e.code().value(), {},
                "the process or its cgroup ran out of threads or memory: check `ulimit -u`, pids.max and free "
                "memory, then start again");
  }
  while (!ready_.load(std::memory_order_acquire)) std::this_thread::yield();
}

void SlowReader::Anchor(int64_t t0_ns) noexcept { t0_ns_.store(t0_ns, std::memory_order_release); }

void SlowReader::Stop() noexcept {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

bool SlowReader::Take(size_t i, uint64_t* out, int64_t now_ns) noexcept {
  Slot& slot = *slots_[i];
  const uint64_t seq = slot.seq.load(std::memory_order_acquire);
  if (seq == slot.taken_seq || (seq & 1) != 0) return false;
  for (size_t j = 0; j <= slot.values; ++j) slot.taken[j] = slot.published[j].load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.seq.load(std::memory_order_relaxed) != seq) return false;  // overwritten while copied
  slot.taken_seq = seq;
  std::memcpy(out, slot.taken.data(), slot.values * sizeof(uint64_t));
  const int64_t lag = now_ns - static_cast<int64_t>(slot.taken[slot.values]);
  if (lag > lag_max_ns_.load(std::memory_order_relaxed)) lag_max_ns_.store(lag, std::memory_order_relaxed);
  return true;
}

void SlowReader::ReadAndPublish(Slot& slot) noexcept {
  const int64_t start = MonotonicNowNs();
  const bool ok = slot.spec.source->Read(slot.buffer.data());
  Follow(&slot.read_ewma_ns, MonotonicNowNs() - start);
  if (!ok) {
    slot.spec.read_errors->fetch_add(1, std::memory_order_relaxed);
    return;  // as on the sampler thread: a failed read is not shown as read
  }
  const uint64_t seq = slot.seq.load(std::memory_order_relaxed);
  slot.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t j = 0; j < slot.values; ++j) slot.published[j].store(slot.buffer[j], std::memory_order_relaxed);
  slot.published[slot.values].store(static_cast<uint64_t>(start), std::memory_order_relaxed);
  slot.seq.store(seq + 2, std::memory_order_release);
}

int64_t SlowReader::LeadNs(const Slot& slot) const noexcept {
  const int64_t lead = slot.read_ewma_ns + wake_ewma_ns_ + kLeadMarginNs;
  return lead < slot.spec.period_ns / 2 ? lead : slot.spec.period_ns / 2;
}

void SlowReader::Run() noexcept {
  pthread_setname_np(pthread_self(), "emp-slow-read");
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (auto& slot : slots_) slot->spec.source->Begin();
  for (auto& slot : slots_) ReadAndPublish(*slot);
  ready_.store(true, std::memory_order_release);

  int64_t t0 = 0;
  while ((t0 = t0_ns_.load(std::memory_order_acquire)) == 0 && !stop_.load(std::memory_order_relaxed)) {
    std::this_thread::yield();
  }
  // The reading taken at Start serves the first deadline; the next read ends before the second.
  for (auto& slot : slots_) slot->due_ns = t0 + slot->spec.period_ns;

  while (!stop_.load(std::memory_order_relaxed)) {
    Slot* next = nullptr;
    int64_t at = std::numeric_limits<int64_t>::max();
    for (auto& slot : slots_) {
      const int64_t begin = slot->due_ns - LeadNs(*slot);
      if (begin < at) {
        at = begin;
        next = slot.get();
      }
    }
    const int64_t woke = SleepUntilNs(at, stop_);
    if (stop_.load(std::memory_order_relaxed)) break;
    Follow(&wake_ewma_ns_, woke - at);
    ReadAndPublish(*next);
    // A read that ran past its next deadlines (a driver slower than the rate asked) skips them and
    // reads as often as it can, rather than in a burst to catch up.
    const int64_t now = MonotonicNowNs();
    do {
      next->due_ns += next->spec.period_ns;
    } while (next->due_ns - LeadNs(*next) < now);
  }
  for (auto& slot : slots_) slot->spec.source->End();
}

}  // namespace emp
