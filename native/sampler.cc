#include "sampler.h"

#include <pthread.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>

#include "errors.h"

namespace emp {

namespace {
constexpr size_t kHeaderWords = sizeof(TickHeader) / sizeof(uint64_t);
// The wake margin tracks this quantile of the wake-up overshoot (Robbins-Monro: step up by q when
// woken later than the margin, down by 1 - q otherwise). The low quartile keeps the spin short
// (about a quarter of the ticks spin at all) while most ticks start within a microsecond or two.
constexpr int64_t kMarginUpNs = 100;    // q = 0.25 of a 400 ns step
constexpr int64_t kMarginDownNs = 300;  // 1 - q of it
constexpr int64_t kInitialMarginNs = 10'000;

size_t CountChannels(const std::vector<ScheduledSource>& sources) {
  size_t n = 0;
  for (const auto& s : sources) n += s.source->channels().size();
  return n;
}
}  // namespace

Sampler::Sampler(SamplerOptions options, std::vector<ScheduledSource> sources)
    : options_(options),
      sources_(std::move(sources)),
      period_ns_(static_cast<int64_t>(std::llround(1e9 / options.sample_hz))),
      ring_(options.ring_ticks, CountChannels(sources_)),
      scratch_(ring_.record_words(), 0),
      read_errors_(new std::atomic<uint64_t>[sources_.size() + 1]()) {
  if (!(options.sample_hz > 0) || period_ns_ < 1) {
    throw Error(ErrorCode::kInvalidArgument, "sample rate must be a positive number of hertz");
  }
  if (sources_.size() > 32) throw Error(ErrorCode::kInvalidArgument, "at most 32 sources per sampler");
  size_t offset = kHeaderWords;
  std::vector<SlowSource> slow;
  for (size_t i = 0; i < sources_.size(); ++i) {
    const ScheduledSource& s = sources_[i];
    channel_offset_.push_back(offset);
    offset += s.source->channels().size();
    // Read every tick, a blocking source has no faster neighbour between its reads to delay, and
    // its own thread would only add a tick of lag.
    const bool slow_source = s.source->blocking() && s.every_ticks > 1;
    slow_index_.push_back(slow_source ? static_cast<int>(slow.size()) : -1);
    if (slow_source) slow.push_back({s.source.get(), period_ns_ * s.every_ticks, &read_errors_[i]});
  }
  if (!slow.empty()) slow_ = std::make_unique<SlowReader>(std::move(slow));
}

Sampler::~Sampler() { Stop(); }

void Sampler::Start() {
  if (state_ != SamplerState::kIdle) throw Error(ErrorCode::kState, "a sampler can be started only once");
  stop_requested_.store(false);
  // First, so that the first tick finds a reading of every slow source.
  if (slow_) slow_->Start();
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    // Still idle, with no thread: the caller may stop it (a no-op), drop it, or start it again.
    if (slow_) slow_->Stop();
    throw Error(ErrorCode::kIo, std::string("cannot start the sampler thread: ") + e.what(), e.code().value(), {},
                "the process or its cgroup ran out of threads or memory: check `ulimit -u`, pids.max and free "
                "memory, then start again");
  }
  state_ = SamplerState::kRunning;
  // Wait for the first tick's clock so started_ns() is meaningful as soon as Start returns.
  while (started_ns_.load(std::memory_order_acquire) == 0) std::this_thread::yield();
}

void Sampler::Stop() noexcept {
  if (state_ != SamplerState::kRunning) return;
  stop_requested_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  if (slow_) slow_->Stop();
  state_ = SamplerState::kStopped;
}

SamplerStats Sampler::stats() const {
  SamplerStats stats;
  stats.ticks = ticks_.load(std::memory_order_relaxed);
  stats.dropped = ring_.dropped();
  stats.missed = missed_.load(std::memory_order_relaxed);
  stats.wake_margin_ns = wake_margin_ns_.load(std::memory_order_relaxed);
  stats.slow_lag_max_ns = slow_ ? slow_->lag_max_ns() : 0;
  for (size_t i = 0; i < sources_.size(); ++i) stats.read_errors.push_back(read_errors_[i].load());
  return stats;
}

void Sampler::Run() noexcept {
  pthread_setname_np(pthread_self(), "emp-sampler");
  // The default 50 us of timer slack would dominate lateness at 10 kHz.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (auto& s : sources_) s.source->Begin();

  uint64_t* record = scratch_.data();
  auto* header = reinterpret_cast<TickHeader*>(record);
  const int64_t t0 = MonotonicNowNs();
  if (slow_) slow_->Anchor(t0);
  started_ns_.store(t0, std::memory_order_release);

  const int64_t max_margin = options_.spin_ns > 0 ? options_.spin_ns : 0;
  int64_t margin = kInitialMarginNs < max_margin ? kInitialMarginNs : max_margin;
  for (uint64_t k = 0; !stop_requested_.load(std::memory_order_relaxed);) {
    const int64_t deadline = t0 + static_cast<int64_t>(k) * period_ns_;
    const int64_t wake = deadline - margin;
    const int64_t before = MonotonicNowNs();
    int64_t start = SleepUntilNs(wake, stop_requested_);
    if (before < wake) {
      // Only a real sleep says how late this machine wakes a thread.
      margin += (start > deadline) ? kMarginUpNs : -kMarginDownNs;
      margin = margin < 0 ? 0 : (margin > max_margin ? max_margin : margin);
      wake_margin_ns_.store(margin, std::memory_order_relaxed);
    }
    while (start < deadline && !stop_requested_.load(std::memory_order_relaxed)) start = MonotonicNowNs();
    if (stop_requested_.load(std::memory_order_relaxed)) break;

    uint64_t mask = 0;
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (slow_index_[i] >= 0) {
        if (slow_->Take(static_cast<size_t>(slow_index_[i]), record + channel_offset_[i], start)) {
          mask |= uint64_t{1} << i;
        }
        continue;
      }
      if (k % sources_[i].every_ticks != 0) continue;
      if (sources_[i].source->Read(record + channel_offset_[i])) {
        mask |= uint64_t{1} << i;
      } else {
        read_errors_[i].fetch_add(1, std::memory_order_relaxed);
      }
    }
    const int64_t end = MonotonicNowNs();
    header->t_ns = start;
    header->lateness_ns = start - deadline;
    header->read_ns = end - start;
    header->read_mask = mask;
    ring_.Push(record);
    ticks_.fetch_add(1, std::memory_order_relaxed);

    // Keep the absolute schedule; if we fell more than a period behind, skip the lost deadlines
    // (counted, so the achieved rate is honest) instead of bursting to catch up.
    uint64_t next = k + 1;
    const int64_t behind = end - (t0 + static_cast<int64_t>(next) * period_ns_);
    if (behind > period_ns_) {
      const uint64_t skip = static_cast<uint64_t>(behind / period_ns_);
      missed_.fetch_add(skip, std::memory_order_relaxed);
      next += skip;
    }
    k = next;
  }
  for (auto& s : sources_) s.source->End();
}

}  // namespace emp
