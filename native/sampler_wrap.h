// The JS class `Sampler`: builds sources from specs, starts and stops the native thread and
// drains the ring into typed arrays (one array per field, never one object per sample).
#pragma once

#include <napi.h>

#include <memory>

#include "sampler.h"

namespace emp {

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SamplerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Channels(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value State(const Napi::CallbackInfo& info);

  // Shared with the addon's registry, which stops it at environment teardown.
  std::shared_ptr<Sampler> sampler_;
};

// The drain buffer's layout (column widths, the read mask's width per source count), for the
// contract test that keeps TypeScript's reading of it in step.
[[nodiscard]] Napi::Object DrainLayout(Napi::Env env);

}  // namespace emp
