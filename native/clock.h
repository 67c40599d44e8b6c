// CLOCK_MONOTONIC in nanoseconds, the one clock every timestamp emp records is on, and the
// absolute-deadline sleep both sampling threads use.
#pragma once

#include <atomic>
#include <cstdint>

namespace emp {

[[nodiscard]] int64_t MonotonicNowNs() noexcept;

// Sleeps until CLOCK_MONOTONIC reaches wake_ns or `stop` is set, whichever comes first; returns the
// clock when it woke (or found the time already passed). Sleeps at most 20 ms at a time, so a stop
// is noticed promptly even at very low rates.
int64_t SleepUntilNs(int64_t wake_ns, const std::atomic<bool>& stop) noexcept;

}  // namespace emp
