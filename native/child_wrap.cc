#include "child_wrap.h"

#include <signal.h>

#include <cstring>
#include <optional>

#include "addon.h"
#include "errors.h"
#include "js_values.h"

namespace emp {

namespace {

StdioSpec ParseStdio(const Napi::Object& options, const char* key) {
  const std::string value = js::String(options, key, "inherit");
  if (value == "inherit") return {StdioMode::kInherit, {}};
  if (value == "ignore") return {StdioMode::kIgnore, {}};
  if (value.empty()) throw Error(ErrorCode::kInvalidArgument, std::string("option ") + key + " is an empty path");
  return {StdioMode::kFile, value};
}

SpawnOptions ParseOptions(const Napi::Object& obj) {
  SpawnOptions options;
  options.file = js::String(obj, "file");
  if (options.file.empty()) throw Error(ErrorCode::kInvalidArgument, "option file must name the command to run");
  options.args = js::StringList(obj, "args");
  options.cwd = js::String(obj, "cwd");
  options.counters = js::StringList(obj, "counters");
  options.stdio = {ParseStdio(obj, "stdin"), ParseStdio(obj, "stdout"), ParseStdio(obj, "stderr")};
  Napi::Value env = obj.Get("env");
  if (env.IsUndefined() || env.IsNull() || (env.IsString() && env.As<Napi::String>().Utf8Value() == "inherit")) {
    options.inherit_env = true;
  } else if (env.IsObject() && !env.IsArray()) {
    options.inherit_env = false;
    Napi::Object vars = env.As<Napi::Object>();
    Napi::Array keys = vars.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).ToString().Utf8Value();
      Napi::Value value = vars.Get(key);
      if (value.IsUndefined()) continue;
      if (!value.IsString())
        throw Error(ErrorCode::kInvalidArgument, "environment variable " + key + " must be a string");
      options.env.push_back(key + "=" + value.As<Napi::String>().Utf8Value());
    }
  } else {
    throw Error(ErrorCode::kInvalidArgument, "option env must be an object of strings or \"inherit\"");
  }
  return options;
}

// "SIGTERM" or 15; nullopt for anything else.
std::optional<int> ParseSignal(const Napi::Value& value) {
  if (value.IsUndefined()) return SIGTERM;
  if (value.IsNumber()) return value.As<Napi::Number>().Int32Value();
  if (!value.IsString()) return std::nullopt;
  const std::string name = value.As<Napi::String>().Utf8Value();
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && name == std::string("SIG") + abbrev) return sig;
  }
  return std::nullopt;
}

Napi::Value SignalName(Napi::Env env, int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return Napi::Number::New(env, sig);
  return Napi::String::New(env, std::string("SIG") + abbrev);
}

// Waits for the child on a libuv pool thread: waitid blocks there, never on the JS thread,
// and the end timestamp is taken the moment it returns rather than when JS gets to run.
class WaitWorker final : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, std::shared_ptr<ChildRunner> child)
      : Napi::AsyncWorker(env, "emp:child-wait"),
        child_(std::move(child)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  [[nodiscard]] Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_ = child_->Wait();
    } catch (const Error& error) {
      error_.emplace(error);
      SetError(error.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("exitCode", result_.signal == 0 ? Napi::Number::New(env, result_.exit_code) : env.Null());
    out.Set("signal", result_.signal != 0 ? SignalName(env, result_.signal) : env.Null());
    out.Set("startNs", Napi::BigInt::New(env, child_->start_ns()));
    out.Set("endNs", Napi::BigInt::New(env, result_.end_ns));
    Napi::Object counters = Napi::Object::New(env);
    for (const CounterValue& c : result_.counters) {
      if (!c.read_ok) continue;
      Napi::Object reading = Napi::Object::New(env);
      reading.Set("value", Napi::BigInt::New(env, c.reading.value));
      reading.Set("enabledNs", Napi::BigInt::New(env, c.reading.enabled_ns));
      reading.Set("runningNs", Napi::BigInt::New(env, c.reading.running_ns));
      counters.Set(c.name, reading);
    }
    out.Set("counters", counters);
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override {
    deferred_.Reject(error_ ? error_->ToJs(Env()).Value() : error.Value());
  }

 private:
  std::shared_ptr<ChildRunner> child_;
  Napi::Promise::Deferred deferred_;
  ChildExit result_;
  std::optional<Error> error_;
};

}  // namespace

Napi::Function ChildWrap::Define(Napi::Env env) {
  return DefineClass(env, "Child",
                     {
                         InstanceAccessor<&ChildWrap::Pid>("pid"),
                         InstanceAccessor<&ChildWrap::StartNs>("startNs"),
                         InstanceAccessor<&ChildWrap::Skipped>("skipped"),
                         InstanceMethod<&ChildWrap::Wait>("wait"),
                         InstanceMethod<&ChildWrap::Kill>("kill"),
                     });
}

ChildWrap::ChildWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChildWrap>(info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    if (!info[0].IsObject()) throw Error(ErrorCode::kInvalidArgument, "Child needs an options object");
    child_ = ChildRunner::Spawn(ParseOptions(info[0].As<Napi::Object>()));
    env.GetInstanceData<Addon>()->Register(child_);
  })
}

Napi::Value ChildWrap::Pid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), child_->pid()); }

Napi::Value ChildWrap::StartNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), child_->start_ns());
}

Napi::Value ChildWrap::Skipped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& skipped = child_->skipped();
  Napi::Array out = Napi::Array::New(env, skipped.size());
  for (size_t i = 0; i < skipped.size(); ++i) {
    Napi::Object obj = Napi::Object::New(env);
    obj.Set("name", skipped[i].name);
    obj.Set("code", skipped[i].code);
    obj.Set("reason", skipped[i].reason);
    out.Set(i, obj);
  }
  return out;
}

// wait() -> Promise<ChildExit>; once per child, since waiting reaps it.
Napi::Value ChildWrap::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    if (!child_->ClaimWait()) throw Error(ErrorCode::kState, "wait() was already called for this child");
  })
  auto* worker = new WaitWorker(env, child_);  // owned by node-addon-api, deleted after OnOK/OnError
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// kill(signal = "SIGTERM") -> boolean: false when the child had already exited.
Napi::Value ChildWrap::Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    const std::optional<int> sig = ParseSignal(info[0]);
    if (!sig) throw Error(ErrorCode::kInvalidArgument, "kill() needs a signal name such as \"SIGTERM\" or a number");
    const int err = child_->Kill(*sig);
    if (err == ESRCH) return Napi::Boolean::New(env, false);
    if (err == EINVAL) throw Error(ErrorCode::kInvalidArgument, "invalid signal " + std::to_string(*sig), err);
    if (err != 0) throw ErrnoError(err, "cannot signal the command", "pid " + std::to_string(child_->pid()));
  })
  return Napi::Boolean::New(env, true);
}

}  // namespace emp
