// The JS class `Child`: `new Child(options)` starts the measured command with its counters
// attached; wait() resolves when it exits, waited for off the JS thread; kill() signals it by pidfd.
#pragma once

#include <napi.h>

#include <memory>

#include "child_runner.h"

namespace emp {

class ChildWrap : public Napi::ObjectWrap<ChildWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ChildWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Pid(const Napi::CallbackInfo& info);
  Napi::Value StartNs(const Napi::CallbackInfo& info);
  Napi::Value Skipped(const Napi::CallbackInfo& info);
  Napi::Value Containment(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Kill(const Napi::CallbackInfo& info);

  // Shared with the exit watcher's thread and the addon's registry, which kills it at environment teardown.
  std::shared_ptr<ChildRunner> child_;
};

}  // namespace emp
