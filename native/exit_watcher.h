// Waits for measured commands without blocking the JS thread or the libuv pool, and settles
// each child's wait() promise on the JS thread when it exits.
//
// Why not a Napi::AsyncWorker: a pool task blocked in waitid holds up the teardown of a worker
// thread, which waits for pending pool work before it runs the Addon's cleanup, and that
// cleanup is what kills the child: a deadlock until the command ends by itself. Here each
// waited child gets its own small thread (waitid, then the end timestamp at once), and the
// results reach the JS thread through a uv_async handle that the Addon closes at teardown.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "child_runner.h"
#include "errors.h"

namespace emp {

class ExitWatcher {
 public:
  explicit ExitWatcher(Napi::Env env);
  // Closes the handle; threads still waiting finish on their own (the Addon kills their children
  // first) and drop their result.
  ~ExitWatcher();
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;
  ExitWatcher(ExitWatcher&&) = delete;
  ExitWatcher& operator=(ExitWatcher&&) = delete;

  // JS thread: starts waiting for `child` (its wait already claimed) and returns the promise of
  // its exit. Keeps the event loop alive until the child has exited.
  [[nodiscard]] Napi::Promise Watch(const std::shared_ptr<ChildRunner>& child);

 private:
  struct Done {
    uint64_t id;
    std::shared_ptr<ChildRunner> child;
    ChildExit exit;
    std::optional<Error> error;
  };
  // Shared with the waiting threads, which may outlive this object.
  struct Mailbox {
    std::mutex mutex;
    uv_async_t* async = nullptr;  // null once closed: threads then drop their results
    std::vector<Done> done;
  };

  static void OnAsync(uv_async_t* handle);
  void Deliver();
  void Settle(Done& done);

  Napi::Env env_;
  Napi::AsyncContext context_;
  std::shared_ptr<Mailbox> mailbox_;
  std::map<uint64_t, Napi::Promise::Deferred> pending_;  // JS thread only
  uint64_t next_id_ = 1;
};

}  // namespace emp
