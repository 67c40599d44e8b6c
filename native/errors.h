// The one error type the addon raises, and the one factory that turns it into a JS Error
// carrying code, errno, path or sensor, and a suggestion for the user.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

namespace emp {

// Codes shared with src/errors.ts; keep the two lists in step.
enum class ErrorCode {
  kAbsent,           // the interface does not exist on this machine
  kPermission,       // exists but this process may not read it
  kUnsupported,      // exists but cannot serve this request (no hardware counters, old GPU)
  kIo,               // a read or open failed for another reason
  kInvalidArgument,  // the caller passed something malformed
  kState,            // the call does not fit the object's state (start twice)
  kSpawn,            // the measured command could not be started
  kInternal,         // a C++ exception no check anticipated: a fault in emp, reported instead of aborting
};

// Every code, for the contract test that compares them with TypeScript's (errors.ts).
inline constexpr ErrorCode kErrorCodes[] = {
    ErrorCode::kAbsent,          ErrorCode::kPermission, ErrorCode::kUnsupported, ErrorCode::kIo,
    ErrorCode::kInvalidArgument, ErrorCode::kState,      ErrorCode::kSpawn,       ErrorCode::kInternal,
};

[[nodiscard]] const char* ErrorCodeName(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0, std::string path = {}, std::string suggestion = {});

  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  [[nodiscard]] int sys_errno() const noexcept { return errno_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& suggestion() const noexcept { return suggestion_; }

  // The one factory: a JS Error with code, errno, path and suggestion properties.
  [[nodiscard]] Napi::Error ToJs(Napi::Env env) const;

 private:
  ErrorCode code_;
  int errno_;
  std::string path_;
  std::string suggestion_;
};

// Classifies an errno from open/pread/perf_event_open into absent, permission or I/O.
[[nodiscard]] ErrorCode CodeForErrno(int sys_errno) noexcept;

// Builds an Error from errno with the system message appended.
[[nodiscard]] Error ErrnoError(int sys_errno, const std::string& what, const std::string& path,
                               std::string suggestion = {});

// Turns an exception that is not an emp::Error into one, saying what was being done (`doing`:
// "probing powercap") and where: a failed thread or allocation keeps its errno, anything else is
// kInternal. Called only from catch blocks; the current exception is rethrown to be inspected.
[[nodiscard]] Error ErrorFromCurrentException(const std::string& doing, const std::string& path = {});

}  // namespace emp

// Every binding entry point runs its body through this, so whatever C++ throws reaches JS as the
// factory's Error, with a code and the entry point's name, and never reaches std::terminate. A
// Napi::Error (a JS exception already pending, or one the body built) passes through untouched.
// Variadic so that a body with top-level commas (a structured binding) needs no extra parentheses.
#define EMP_JS_GUARD(env, ...)                                                           \
  try {                                                                                  \
    __VA_ARGS__                                                                          \
  } catch (const ::emp::Error& emp_error_) {                                             \
    throw emp_error_.ToJs(env);                                                          \
  } catch (const ::Napi::Error&) {                                                       \
    throw;                                                                               \
  } catch (...) {                                                                        \
    throw ::emp::ErrorFromCurrentException(std::string("native ") + __func__).ToJs(env); \
  }
