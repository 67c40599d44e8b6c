// Single-producer single-consumer ring of fixed-size tick records. The sampler thread is the
// only producer and never waits: when the ring is full the newest tick is dropped and counted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace emp {

// What the sampler knows about one tick, followed in memory by one uint64 per channel.
struct TickHeader {
  int64_t t_ns;         // CLOCK_MONOTONIC when the reads of this tick began
  int64_t lateness_ns;  // start of the tick minus its scheduled deadline
  int64_t read_ns;      // time spent reading the due sources
  uint64_t read_mask;   // bit i set: source i was read (and succeeded) in this tick
};

class TickRing {
 public:
  // capacity_ticks is rounded up to a power of two; channels fixes the record size.
  TickRing(size_t capacity_ticks, size_t channels);
  TickRing(const TickRing&) = delete;
  TickRing& operator=(const TickRing&) = delete;

  [[nodiscard]] size_t capacity() const noexcept { return mask_ + 1; }
  [[nodiscard]] size_t channels() const noexcept { return channels_; }
  [[nodiscard]] size_t record_words() const noexcept { return record_words_; }

  // Producer: copies one record (header + channel values) in, or drops it when full.
  // Returns false when the tick was dropped.
  bool Push(const uint64_t* record) noexcept;

  // Consumer: pointer to the i-th unread record, 0 <= i < Readable().
  [[nodiscard]] size_t Readable() const noexcept;
  [[nodiscard]] const uint64_t* Peek(size_t i) const noexcept;
  // How many records from the i-th unread one lie contiguously before the end of the buffer.
  [[nodiscard]] size_t ContiguousFrom(size_t i) const noexcept;
  void Consume(size_t n) noexcept;

  [[nodiscard]] uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t pushed() const noexcept { return head_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kCacheLine = 64;
  size_t mask_;
  size_t channels_;
  size_t record_words_;
  std::unique_ptr<uint64_t[]> slots_;
  // Producer and consumer indices on separate cache lines so neither thread's writes evict the other's.
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  alignas(kCacheLine) std::atomic<uint64_t> dropped_{0};
};

}  // namespace emp
