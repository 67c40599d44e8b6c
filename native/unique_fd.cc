#include "unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace emp {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

UniqueFd UniqueFd::OpenReadOnly(const std::string& path) noexcept {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

int UniqueFd::Release() noexcept {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) noexcept {
  if (fd_ >= 0) {
    int saved = errno;  // close must not clobber the errno a caller is about to report
    ::close(fd_);
    errno = saved;
  }
  fd_ = fd;
}

ssize_t UniqueFd::PreadAt(void* buf, size_t len, off_t offset) const noexcept {
  ssize_t n;
  do {
    n = ::pread(fd_, buf, len, offset);
  } while (n < 0 && errno == EINTR);
  return n;
}

namespace {
bool IsBlank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n'; }
}  // namespace

bool ParseU64(const char* buf, size_t len, uint64_t* out) noexcept {
  size_t i = 0;
  while (i < len && IsBlank(buf[i])) ++i;
  constexpr uint64_t kMax = ~uint64_t{0};
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < len && buf[i] >= '0' && buf[i] <= '9'; ++i, ++digits) {
    const auto digit = static_cast<uint64_t>(buf[i] - '0');
    // Past 2^64 - 1 the text is no counter value; wrapping it would invent one.
    if (v > (kMax - digit) / 10) return false;
    v = v * 10 + digit;
  }
  // "12abc" is not 12: only the newline sysfs appends may follow the digits.
  while (i < len && IsBlank(buf[i])) ++i;
  if (digits == 0 || i != len) return false;
  *out = v;
  return true;
}

bool ParseI64(const char* buf, size_t len, int64_t* out) noexcept {
  size_t i = 0;
  while (i < len && IsBlank(buf[i])) ++i;
  bool negative = i < len && buf[i] == '-';
  if (negative) ++i;
  uint64_t magnitude = 0;
  if (i < len && IsBlank(buf[i])) return false;  // "- 5"
  if (!ParseU64(buf + i, len - i, &magnitude)) return false;
  constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |INT64_MIN|
  if (magnitude > (negative ? kMaxMagnitude : kMaxMagnitude - 1)) return false;
  *out = negative ? static_cast<int64_t>(~magnitude + 1) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace emp
