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

bool ParseU64(const char* buf, size_t len, uint64_t* out) noexcept {
  size_t i = 0;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t')) ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < len && buf[i] >= '0' && buf[i] <= '9'; ++i, ++digits) v = v * 10 + static_cast<uint64_t>(buf[i] - '0');
  if (digits == 0) return false;
  *out = v;
  return true;
}

bool ParseI64(const char* buf, size_t len, int64_t* out) noexcept {
  size_t i = 0;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t')) ++i;
  bool negative = i < len && buf[i] == '-';
  if (negative) ++i;
  uint64_t magnitude = 0;
  if (!ParseU64(buf + i, len - i, &magnitude)) return false;
  *out = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace emp
