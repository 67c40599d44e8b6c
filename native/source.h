// The interface every sensor implements, and the description of one channel it produces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emp {

// One value a source writes per read. Raw values stay raw in the ring: the TypeScript side
// applies `scale` and corrects wraps with `wrap`, so nothing is lost to early rounding.
struct Channel {
  std::string name;        // unique within its source: "package-0", "task-clock", "gpu-0-power"
  std::string domain;      // resource it belongs to: "package-0", "dram-1", "gpu-0", "process", "system"
  std::string quantity;    // "energy", "power", "temperature", "time", "count"
  std::string unit;        // unit of the raw value: "uJ", "esu", "mJ", "mW", "mC", "C", "ns", "count"
  double scale = 1.0;      // raw * scale = SI value (J, W, degC, s, count)
  uint64_t wrap = 0;       // modulus of a wrapping counter in raw units; 0 = never wraps
  bool counter = true;     // accumulates (differences are meaningful) vs a gauge read as is
  bool is_signed = false;  // raw bits are an int64 (temperatures below zero)
  std::string origin;      // where it is read: a file path, "msr 0x611 on cpu 0", an NVML call
};

class Source {
 public:
  Source() = default;
  virtual ~Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // "powercap", "msr", "perf-power", "perf", "nvml", "thermal".
  [[nodiscard]] virtual const char* kind() const noexcept = 0;
  [[nodiscard]] virtual const std::vector<Channel>& channels() const noexcept = 0;
  // Highest rate at which reading makes sense (NVML updates slowly and serialises in the driver).
  [[nodiscard]] virtual double max_hz() const noexcept { return 1e9; }
  // A read can block for milliseconds (a driver call, firmware code): the sampler reads such a
  // source on a thread of its own, so that it never makes the other sources late.
  [[nodiscard]] virtual bool blocking() const noexcept { return false; }

  // Reading thread, hot path: write channels().size() raw values to out. Must not allocate,
  // lock or block beyond the reads themselves. Returns false if any read failed (the failed
  // channels keep their previous value).
  [[nodiscard]] virtual bool Read(uint64_t* out) noexcept = 0;

  // Called on the thread that reads the source, just before the first and after the last read.
  virtual void Begin() noexcept {}
  virtual void End() noexcept {}
};

}  // namespace emp
