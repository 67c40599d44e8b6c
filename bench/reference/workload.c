// The measured work of the overhead benchmark: a fixed CPU-bound loop (xorshift, no memory
// traffic, no syscalls) that prints the nanoseconds it took on CLOCK_MONOTONIC.
// usage: workload ITERATIONS
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char** argv) {
  const uint64_t iterations = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000;
  uint64_t x = 88172645463325252ULL;
  const int64_t start = now_ns();
  for (uint64_t i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  const int64_t elapsed = now_ns() - start;
  // Printing x keeps the loop from being optimised away.
  printf("%lld %llu\n", (long long)elapsed, (unsigned long long)(x & 0xff));
  return 0;
}
