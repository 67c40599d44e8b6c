// Owns one file descriptor: sysfs files, MSR devices, perf events, pidfds, pipes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace emp {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;

  // Opens read-only with O_CLOEXEC; returns an invalid fd and leaves errno set on failure.
  [[nodiscard]] static UniqueFd OpenReadOnly(const std::string& path) noexcept;

  [[nodiscard]] int Get() const noexcept { return fd_; }
  [[nodiscard]] bool Valid() const noexcept { return fd_ >= 0; }
  [[nodiscard]] int Release() noexcept;
  void Reset(int fd = -1) noexcept;

  // pread of a whole register or text; returns bytes read or -1 with errno set. Never allocates.
  [[nodiscard]] ssize_t PreadAt(void* buf, size_t len, off_t offset) const noexcept;

 private:
  int fd_ = -1;
};

// Parses an unsigned decimal integer from a text buffer as sysfs writes it ("123\n").
// Returns false unless the buffer holds digits and blanks only, or when the value exceeds
// 2^64 - 1. Hot-path safe: no allocation.
[[nodiscard]] bool ParseU64(const char* buf, size_t len, uint64_t* out) noexcept;
// Signed variant for temperatures in millidegrees, which can be negative; false outside int64.
[[nodiscard]] bool ParseI64(const char* buf, size_t len, int64_t* out) noexcept;

}  // namespace emp
