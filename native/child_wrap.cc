#include "child_wrap.h"

#include <signal.h>

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
  if (value == "stderr") {
    if (std::string(key) != "stdout")
      throw Error(ErrorCode::kInvalidArgument, std::string("option ") + key + " cannot be stderr");
    return {StdioMode::kStderr, {}};
  }
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
  const std::string containment = js::String(obj, "containment", "auto");
  const auto mode = ParseContainmentMode(containment);
  if (!mode) {
    throw Error(ErrorCode::kInvalidArgument,
                "option containment must be auto, cgroup or process-group; got " + containment);
  }
  options.containment = *mode;
  options.wait_descendants = js::Boolean(obj, "waitDescendants", false);
  const double grace_ms = js::Number(obj, "killGraceMs", 2000);
  if (!(grace_ms >= 0 && grace_ms <= 3'600'000)) {
    throw Error(ErrorCode::kInvalidArgument, "option killGraceMs must be in [0, 3600000]");
  }
  options.kill_grace_ns = static_cast<int64_t>(grace_ms * 1e6);
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

}  // namespace

Napi::Function ChildWrap::Define(Napi::Env env) {
  return DefineClass(env, "Child",
                     {
                         InstanceAccessor<&ChildWrap::Pid>("pid"),
                         InstanceAccessor<&ChildWrap::StartNs>("startNs"),
                         InstanceAccessor<&ChildWrap::Skipped>("skipped"),
                         InstanceAccessor<&ChildWrap::Containment>("containment"),
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

// containment -> { kind, path?, reason? }: how the command's tree is held, and why not in a cgroup.
Napi::Value ChildWrap::Containment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ProcessTree& tree = child_->tree();
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", ContainmentKindName(tree.kind()));
  if (!tree.path().empty()) out.Set("path", tree.path());
  if (!tree.reason().empty()) out.Set("reason", tree.reason());
  return out;
}

// wait() -> Promise<ChildExit>; once per child, since waiting reaps it. Never blocks this thread.
Napi::Value ChildWrap::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    if (!child_->ClaimWait()) throw Error(ErrorCode::kState, "wait() was already called for this child");
    return env.GetInstanceData<Addon>()->exit_watcher().Watch(child_);
  })
  return env.Undefined();
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
