#include "tick_ring.h"

#include <cstring>

namespace emp {

namespace {
size_t RoundUpPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

TickRing::TickRing(size_t capacity_ticks, size_t channels)
    : mask_(RoundUpPowerOfTwo(capacity_ticks < 2 ? 2 : capacity_ticks) - 1),
      channels_(channels),
      record_words_(sizeof(TickHeader) / sizeof(uint64_t) + channels),
      slots_(new uint64_t[(mask_ + 1) * record_words_]()) {}

bool TickRing::Push(const uint64_t* record) noexcept {
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  if (head - tail > mask_) {
    // Only the producer writes dropped_, so a relaxed read-modify-write is enough.
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return false;
  }
  std::memcpy(&slots_[(head & mask_) * record_words_], record, record_words_ * sizeof(uint64_t));
  head_.store(head + 1, std::memory_order_release);
  return true;
}

size_t TickRing::Readable() const noexcept {
  return static_cast<size_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed));
}

const uint64_t* TickRing::Peek(size_t i) const noexcept {
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  return &slots_[((tail + i) & mask_) * record_words_];
}

size_t TickRing::ContiguousFrom(size_t i) const noexcept {
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  return capacity() - ((tail + i) & mask_);
}

void TickRing::Consume(size_t n) noexcept {
  tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
}

}  // namespace emp
