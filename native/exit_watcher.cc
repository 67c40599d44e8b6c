#include "exit_watcher.h"

#include <signal.h>

#include <string>
#include <system_error>
#include <thread>

namespace emp {

namespace {
Napi::Value SignalName(Napi::Env env, int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return Napi::Number::New(env, sig);
  return Napi::String::New(env, std::string("SIG") + abbrev);
}

Napi::Object ExitToJs(Napi::Env env, const ChildRunner& child, const ChildExit& exit) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("exitCode", exit.signal == 0 ? Napi::Number::New(env, exit.exit_code) : env.Null());
  out.Set("signal", exit.signal != 0 ? SignalName(env, exit.signal) : env.Null());
  out.Set("startNs", Napi::BigInt::New(env, child.start_ns()));
  out.Set("endNs", Napi::BigInt::New(env, exit.end_ns));
  out.Set("descendants", Napi::Number::New(env, static_cast<double>(exit.descendants)));
  out.Set("treeLeft", Napi::Boolean::New(env, exit.tree_left));
  out.Set("treeCpuNs", exit.tree_cpu_ns ? Napi::BigInt::New(env, *exit.tree_cpu_ns) : env.Null());
  Napi::Object counters = Napi::Object::New(env);
  for (const CounterValue& c : exit.counters) {
    if (!c.read_ok) continue;
    Napi::Object reading = Napi::Object::New(env);
    reading.Set("value", Napi::BigInt::New(env, c.reading.value));
    reading.Set("enabledNs", Napi::BigInt::New(env, c.reading.enabled_ns));
    reading.Set("runningNs", Napi::BigInt::New(env, c.reading.running_ns));
    counters.Set(c.name, reading);
  }
  out.Set("counters", counters);
  return out;
}

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw Error(ErrorCode::kState, "cannot reach the event loop of this environment");
  }
  return loop;
}
}  // namespace

ExitWatcher::ExitWatcher(Napi::Env env)
    : env_(env), context_(env, "emp:child-exit"), mailbox_(std::make_shared<Mailbox>()) {
  auto* async = new uv_async_t;
  async->data = this;
  uv_async_init(LoopOf(env), async, &ExitWatcher::OnAsync);
  uv_unref(reinterpret_cast<uv_handle_t*>(async));  // only a pending wait keeps the loop alive
  mailbox_->async = async;
}

ExitWatcher::~ExitWatcher() {
  uv_async_t* async;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    async = mailbox_->async;
    mailbox_->async = nullptr;
    mailbox_->done.clear();
  }
  if (async != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(async), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  }
}

Napi::Promise ExitWatcher::Watch(const std::shared_ptr<ChildRunner>& child) {
  const uint64_t id = next_id_++;
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env_);
  auto wait = [mailbox = mailbox_, child, id] {
    Done done{id, child, {}, std::nullopt};
    try {
      done.exit = child->Wait();
    } catch (const Error& error) {
      done.error.emplace(error);
    } catch (const std::exception& error) {
      // Nothing may escape a thread (std::terminate): out of memory reading the counters, say.
      done.error.emplace(ErrorCode::kIo, std::string("waiting for the command failed: ") + error.what());
    }
    std::lock_guard<std::mutex> lock(mailbox->mutex);
    if (mailbox->async == nullptr) return;  // the environment is gone
    mailbox->done.push_back(std::move(done));
    uv_async_send(mailbox->async);
  };
  std::thread waiter;
  try {
    waiter = std::thread(std::move(wait));
  } catch (const std::system_error& e) {
    // Out of threads: the child stays unreaped until its runner is destroyed, which kills it.
    throw Error(ErrorCode::kIo, std::string("cannot start a thread to wait for the command: ") + e.what());
  }
  // Detached: it ends when the child does, and the Addon kills children at teardown. It holds
  // only shared state, so it may safely outlive this object.
  waiter.detach();
  pending_.emplace(id, deferred);
  if (pending_.size() == 1) {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    uv_ref(reinterpret_cast<uv_handle_t*>(mailbox_->async));
  }
  return deferred.Promise();
}

void ExitWatcher::OnAsync(uv_async_t* handle) { static_cast<ExitWatcher*>(handle->data)->Deliver(); }

void ExitWatcher::Deliver() {
  std::vector<Done> done;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    done.swap(mailbox_->done);
  }
  if (done.empty()) return;
  Napi::HandleScope handles(env_);
  // A callback scope, so promise reactions (microtasks) run when it closes.
  Napi::CallbackScope callback(env_, context_);
  for (Done& d : done) {
    try {
      Settle(d);
    } catch (const Napi::Error&) {
      // Settling fails only while the environment is stopping; nothing can observe the promise
      // then, and an exception must not escape into libuv.
    }
  }
  if (pending_.empty()) {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    if (mailbox_->async != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(mailbox_->async));
  }
}

void ExitWatcher::Settle(Done& done) {
  auto it = pending_.find(done.id);
  if (it == pending_.end()) return;
  Napi::Promise::Deferred deferred = it->second;
  pending_.erase(it);
  if (done.error) {
    deferred.Reject(done.error->ToJs(env_).Value());
  } else {
    deferred.Resolve(ExitToJs(env_, *done.child, done.exit));
  }
}

}  // namespace emp
