// Per-environment state of the addon. Node creates one per main thread or worker; its
// destructor runs at that environment's teardown and stops every sampler still running, so a
// worker or process exit never leaves a sampling thread behind.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "sampler.h"

namespace emp {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();
  Addon(const Addon&) = delete;
  Addon& operator=(const Addon&) = delete;

  void Register(const std::shared_ptr<Sampler>& sampler);

 private:
  Napi::Value Probe(const Napi::CallbackInfo& info);
  Napi::Value Now(const Napi::CallbackInfo& info);
  Napi::Value SourceKindNames(const Napi::CallbackInfo& info);

  // Weak: a sampler lives as long as its JS object; the registry only needs to reach it at teardown.
  std::vector<std::weak_ptr<Sampler>> samplers_;
};

}  // namespace emp
