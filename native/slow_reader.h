// Sources whose reads block for milliseconds (NVML in the GPU driver, an ACPI thermal zone running
// firmware code), read on a thread of their own at their own low rate so that they never make the
// sampler's fast sources (RAPL at 10 kHz) late. Each reading is published through a seqlock; on its
// next tick the sampler thread copies the newest one into its record without waiting.
//
// A reading therefore carries the time of the tick that took it, not of the read itself. Each read
// is started so that it ends just before a sampler deadline (its own duration and the thread's
// wake-up delay are learned as it runs), so the tick at that deadline takes it; lag_max_ns() says
// how far after its read began a reading was stamped, at most.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "source.h"

namespace emp {

struct SlowSource {
  Source* source;                      // owned by the sampler
  int64_t period_ns;                   // its read period: a whole number of sampler periods
  std::atomic<uint64_t>* read_errors;  // the sampler's failure count for this source
};

class SlowReader {
 public:
  explicit SlowReader(std::vector<SlowSource> sources);
  ~SlowReader();
  SlowReader(const SlowReader&) = delete;
  SlowReader& operator=(const SlowReader&) = delete;

  // Starts the thread and returns once every source has been read once, so that the sampler's first
  // tick already carries a value of each. Throws emp::Error when the thread cannot start.
  void Start();
  // The sampler's first deadline: reads are timed to end just before its later deadlines.
  void Anchor(int64_t t0_ns) noexcept;
  void Stop() noexcept;  // idempotent; joins the thread

  // Sampler thread, hot path: when source i has a reading it has not taken yet, copies its values
  // to out and returns true. Never waits: a reading being written now is taken on the next tick.
  [[nodiscard]] bool Take(size_t i, uint64_t* out, int64_t now_ns) noexcept;
  [[nodiscard]] int64_t lag_max_ns() const noexcept { return lag_max_ns_.load(std::memory_order_relaxed); }

 private:
  // One source's published reading and its schedule. Atomics do not move: held by unique_ptr.
  struct Slot {
    SlowSource spec;
    size_t values;
    std::atomic<uint64_t> seq{0};                        // odd while the reader writes `published`
    std::unique_ptr<std::atomic<uint64_t>[]> published;  // values, then the read's start time
    // Reader thread only.
    std::vector<uint64_t> buffer;  // Read's output; a failed channel keeps its last value here
    int64_t due_ns = 0;            // the sampler deadline the next read must end before
    int64_t read_ewma_ns = 0;      // how long a read takes
    // Sampler thread only.
    uint64_t taken_seq = 0;
    std::vector<uint64_t> taken;  // a candidate copy, kept only if no write overlapped it
  };

  void Run() noexcept;
  void ReadAndPublish(Slot& slot) noexcept;
  [[nodiscard]] int64_t LeadNs(const Slot& slot) const noexcept;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> t0_ns_{0};
  std::atomic<int64_t> lag_max_ns_{0};
  int64_t wake_ewma_ns_ = 0;  // reader thread: how late it wakes after the time it asked for
  std::thread thread_;
};

}  // namespace emp
