#include "errors.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <system_error>

namespace emp {

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kAbsent: return "E_ABSENT";
    case ErrorCode::kPermission: return "E_PERMISSION";
    case ErrorCode::kUnsupported: return "E_UNSUPPORTED";
    case ErrorCode::kIo: return "E_IO";
    case ErrorCode::kInvalidArgument: return "E_INVALID_ARGUMENT";
    case ErrorCode::kState: return "E_STATE";
    case ErrorCode::kSpawn: return "E_SPAWN";
    case ErrorCode::kInternal: return "E_INTERNAL";
  }
  return "E_IO";
}

Error::Error(ErrorCode code, std::string message, int sys_errno, std::string path, std::string suggestion)
    : std::runtime_error(std::move(message)),
      code_(code),
      errno_(sys_errno),
      path_(std::move(path)),
      suggestion_(std::move(suggestion)) {}

Napi::Error Error::ToJs(Napi::Env env) const {
  Napi::Error error = Napi::Error::New(env, what());
  Napi::Object obj = error.Value();
  obj.Set("code", ErrorCodeName(code_));
  if (errno_ != 0) obj.Set("errno", errno_);
  if (!path_.empty()) obj.Set("path", path_);
  if (!suggestion_.empty()) obj.Set("suggestion", suggestion_);
  return error;
}

ErrorCode CodeForErrno(int sys_errno) noexcept {
  switch (sys_errno) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
    case ENOTDIR: return ErrorCode::kAbsent;
    case EACCES:
    case EPERM: return ErrorCode::kPermission;
    case EOPNOTSUPP:
    case EINVAL: return ErrorCode::kUnsupported;
    default: return ErrorCode::kIo;
  }
}

Error ErrnoError(int sys_errno, const std::string& what, const std::string& path, std::string suggestion) {
  return Error(CodeForErrno(sys_errno), what + ": " + std::strerror(sys_errno), sys_errno, path, std::move(suggestion));
}

Error ErrorFromCurrentException(const std::string& doing, const std::string& path) {
  constexpr const char* kReportFix =
      "this is a fault in emp, not in your setup: please report it with the message and `emp probe --json`";
  try {
    throw;
  } catch (const Error& error) {
    return error;
  } catch (const std::system_error& e) {
    // std::thread and friends: the errno (EAGAIN when out of threads) says what ran out.
    const int sys_errno =
        e.code().category() == std::generic_category() || e.code().category() == std::system_category()
            ? e.code().value()
            : 0;
    return Error(ErrorCode::kIo, doing + ": " + e.what(), sys_errno, path,
                 "the system refused a resource (threads, memory): check `ulimit -u` and the cgroup's pids.max");
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kIo, doing + ": out of memory", ENOMEM, path,
                 "free memory or raise the process's memory limit; a sensor file far larger than the kernel writes "
                 "can also cause it (EMP_SYSFS_ROOT pointing at a copied tree?)");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, doing + ": unanticipated C++ exception: " + e.what(), 0, path, kReportFix);
  } catch (...) {
    return Error(ErrorCode::kInternal, doing + ": unanticipated C++ exception of unknown type", 0, path, kReportFix);
  }
}

}  // namespace emp
