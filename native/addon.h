// Per-environment state of the addon. Node creates one per main thread or worker; its
// destructor runs at that environment's teardown and stops every sampler still running and
// kills every measured command still running, so a worker or process exit leaves neither behind.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "child_runner.h"
#include "exit_watcher.h"
#include "sampler.h"

namespace emp {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();
  Addon(const Addon&) = delete;
  Addon& operator=(const Addon&) = delete;

  void Register(const std::shared_ptr<Sampler>& sampler);
  void Register(const std::shared_ptr<ChildRunner>& child);
  [[nodiscard]] ExitWatcher& exit_watcher() noexcept { return *exit_watcher_; }

 private:
  Napi::Value Probe(const Napi::CallbackInfo& info);
  Napi::Value Now(const Napi::CallbackInfo& info);
  Napi::Value SourceKindNames(const Napi::CallbackInfo& info);
  // What TypeScript copies of the addon (perf event names, error codes, the drain layout), for the
  // contract test that keeps the two in step.
  Napi::Value Contracts(const Napi::CallbackInfo& info);
  Napi::Value Containment(const Napi::CallbackInfo& info);

  // Weak: a sampler lives as long as its JS object; the registry only needs to reach it at teardown.
  std::vector<std::weak_ptr<Sampler>> samplers_;
  // Weak too: a measured command still running when its environment ends is killed.
  std::vector<std::weak_ptr<ChildRunner>> children_;
  // Destroyed after the destructor's body has killed the children, closing its loop handle.
  std::unique_ptr<ExitWatcher> exit_watcher_;
};

}  // namespace emp
