#include "clock.h"

#include <time.h>

namespace emp {

namespace {
constexpr int64_t kMaxSleepNs = 20'000'000;
}

int64_t MonotonicNowNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t SleepUntilNs(int64_t wake_ns, const std::atomic<bool>& stop) noexcept {
  for (;;) {
    const int64_t now = MonotonicNowNs();
    if (now >= wake_ns || stop.load(std::memory_order_relaxed)) return now;
    const int64_t until = (wake_ns - now > kMaxSleepNs) ? now + kMaxSleepNs : wake_ns;
    timespec ts{static_cast<time_t>(until / 1'000'000'000), static_cast<long>(until % 1'000'000'000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }
}

}  // namespace emp
