// The sampling thread: reads every due source at absolute deadlines on CLOCK_MONOTONIC and
// pushes one record per tick into the ring. One sampler per measurement session. Sources whose
// reads block (Source::blocking) and that are read less often than every tick are read by a
// SlowReader on a thread of their own; the sampler copies their newest reading into its records.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "clock.h"
#include "slow_reader.h"
#include "source.h"
#include "tick_ring.h"

namespace emp {

struct SamplerOptions {
  double sample_hz = 1000.0;
  size_t ring_ticks = 1 << 16;
  // Most the thread spins before a deadline. It sleeps until (deadline - margin) and spins the rest;
  // the margin follows the low quartile of this machine's own wake-up latency, up to spin_ns, so a
  // quick kernel costs little spin and a slow one (a VM) is not woken late.
  int64_t spin_ns = 50'000;
};

// A source with the rate it is read at, as a divisor of the sampler's tick rate.
struct ScheduledSource {
  std::unique_ptr<Source> source;
  uint32_t every_ticks = 1;
};

enum class SamplerState { kIdle, kRunning, kStopped };

struct SamplerStats {
  uint64_t ticks = 0;                 // ticks the thread ran (pushed + dropped)
  uint64_t dropped = 0;               // ticks lost because the ring was full
  uint64_t missed = 0;                // deadlines skipped because the thread ran more than a period late
  int64_t wake_margin_ns = 0;         // how long before a deadline the thread now asks to be woken
  int64_t slow_lag_max_ns = 0;        // most a slow source's reading was stamped after its read began
  std::vector<uint64_t> read_errors;  // per source
};

class Sampler {
 public:
  Sampler(SamplerOptions options, std::vector<ScheduledSource> sources);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void Start();          // throws emp::Error when not idle or the thread cannot start
  void Stop() noexcept;  // idempotent; joins the thread
  [[nodiscard]] SamplerState state() const noexcept { return state_; }

  [[nodiscard]] const TickRing& ring() const noexcept { return ring_; }
  [[nodiscard]] TickRing& ring() noexcept { return ring_; }
  [[nodiscard]] const std::vector<ScheduledSource>& sources() const noexcept { return sources_; }
  [[nodiscard]] const SamplerOptions& options() const noexcept { return options_; }
  [[nodiscard]] int64_t period_ns() const noexcept { return period_ns_; }
  [[nodiscard]] int64_t started_ns() const noexcept { return started_ns_.load(std::memory_order_acquire); }
  [[nodiscard]] SamplerStats stats() const;

 private:
  void Run() noexcept;

  SamplerOptions options_;
  std::vector<ScheduledSource> sources_;
  std::vector<size_t> channel_offset_;  // first value slot of each source within a record
  std::vector<int> slow_index_;         // per source: its index in the slow reader, or -1
  int64_t period_ns_;
  TickRing ring_;
  std::vector<uint64_t> scratch_;  // the record being built; non-due sources keep their last value
  std::unique_ptr<std::atomic<uint64_t>[]> read_errors_;
  std::unique_ptr<SlowReader> slow_;  // null when no source is slow
  std::atomic<bool> stop_requested_{false};
  std::atomic<uint64_t> ticks_{0};
  std::atomic<uint64_t> missed_{0};
  std::atomic<int64_t> wake_margin_ns_{0};
  std::atomic<int64_t> started_ns_{0};
  SamplerState state_ = SamplerState::kIdle;
  std::thread thread_;
};

}  // namespace emp
