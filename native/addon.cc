#include "addon.h"

#include <signal.h>

#include <algorithm>

#include "child_wrap.h"
#include "errors.h"
#include "js_values.h"
#include "perf_event.h"
#include "process_tree.h"
#include "roots.h"
#include "sampler_wrap.h"
#include "source_registry.h"

namespace emp {

Addon::Addon(Napi::Env env, Napi::Object exports) : exit_watcher_(std::make_unique<ExitWatcher>(env)) {
  DefineAddon(exports, {
                           InstanceMethod<&Addon::Probe>("probe"),
                           InstanceMethod<&Addon::Now>("now"),
                           InstanceMethod<&Addon::SourceKindNames>("sourceKinds"),
                           InstanceMethod<&Addon::Containment>("containment"),
                           InstanceMethod<&Addon::Contracts>("contracts"),
                       });
  exports.Set("Sampler", SamplerWrap::Define(env));
  exports.Set("Child", ChildWrap::Define(env));
}

Addon::~Addon() {
  for (auto& weak : samplers_) {
    if (auto sampler = weak.lock()) sampler->Stop();
  }
  for (auto& weak : children_) {
    // Its waiting thread (or the runner's destructor) reaps it; here it only has to end.
    if (auto child = weak.lock()) (void)child->Kill(SIGKILL);
  }
}

void Addon::Register(const std::shared_ptr<Sampler>& sampler) {
  samplers_.erase(std::remove_if(samplers_.begin(), samplers_.end(), [](const auto& w) { return w.expired(); }),
                  samplers_.end());
  samplers_.push_back(sampler);
}

void Addon::Register(const std::shared_ptr<ChildRunner>& child) {
  children_.erase(std::remove_if(children_.begin(), children_.end(), [](const auto& w) { return w.expired(); }),
                  children_.end());
  children_.push_back(child);
}

// probe(kinds?: string[]) -> SensorReport[]: what each source kind can read here, and why not.
Napi::Value Addon::Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    std::vector<std::string> wanted;
    if (info.Length() > 0 && info[0].IsArray()) {
      Napi::Array array = info[0].As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) wanted.push_back(array.Get(i).ToString().Utf8Value());
    }
    const Roots roots = Roots::FromEnvironment();
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (const SourceKind& kind : SourceKinds()) {
      if (!Selected(wanted, kind.kind)) continue;
      SensorReport report = ProbeKind(kind, roots);
      Napi::Object obj = Napi::Object::New(env);
      obj.Set("kind", report.kind);
      obj.Set("status", SensorStatusName(report.status));
      obj.Set("reason", report.reason);
      obj.Set("fix", report.fix);
      Napi::Array channels = Napi::Array::New(env, report.channels.size());
      for (size_t i = 0; i < report.channels.size(); ++i) channels.Set(i, js::ChannelToJs(env, report.channels[i]));
      obj.Set("channels", channels);
      Napi::Object details = Napi::Object::New(env);
      for (const auto& [key, value] : report.details) details.Set(key, value);
      obj.Set("details", details);
      out.Set(n++, obj);
    }
    return out;
  })
}

// now() -> bigint: CLOCK_MONOTONIC in ns, the clock of every tick and child timestamp.
Napi::Value Addon::Now(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, { return Napi::BigInt::New(env, MonotonicNowNs()); })
}

// containment() -> { kind: "cgroup", parent } | { kind: "process-group", reason }: how a measured
// command's tree would be held here.
Napi::Value Addon::Containment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  EMP_JS_GUARD(env, {
    const CgroupSupport support = FindCgroupSupport();
    if (!support.parent.empty()) {
      out.Set("kind", "cgroup");
      out.Set("parent", support.parent);
      if (support.orphans_ended > 0) out.Set("orphansEnded", static_cast<double>(support.orphans_ended));
    } else {
      out.Set("kind", "process-group");
      out.Set("reason", support.reason);
    }
  })
  return out;
}

Napi::Value Addon::SourceKindNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (const SourceKind& kind : SourceKinds()) out.Set(n++, kind.kind);
    return out;
  })
}

Napi::Value Addon::Contracts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array events = Napi::Array::New(env);
    uint32_t n = 0;
    for (const auto& def : PerfEventTable()) events.Set(n++, def.name);
    out.Set("perfEvents", events);
    Napi::Array codes = Napi::Array::New(env);
    n = 0;
    for (const ErrorCode code : kErrorCodes) codes.Set(n++, ErrorCodeName(code));
    out.Set("errorCodes", codes);
    out.Set("drain", DrainLayout(env));
    return out;
  })
}

NODE_API_ADDON(Addon)

}  // namespace emp
