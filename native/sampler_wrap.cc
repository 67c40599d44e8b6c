#include "sampler_wrap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "addon.h"
#include "errors.h"
#include "js_values.h"
#include "source_registry.h"

namespace emp {

namespace {
SourceSpec ParseSpec(const Napi::Object& obj) {
  SourceSpec spec;
  spec.kind = js::String(obj, "kind");
  if (spec.kind.empty()) throw Error(ErrorCode::kInvalidArgument, "every source spec needs a kind");
  spec.hz = js::Number(obj, "hz", 0);
  spec.pid = static_cast<int>(js::Number(obj, "pid", -1));
  spec.select = js::StringList(obj, "select");
  return spec;
}

std::shared_ptr<Sampler> Build(const Napi::Object& options) {
  SamplerOptions opts;
  opts.sample_hz = js::Number(options, "sampleHz", opts.sample_hz);
  opts.ring_ticks = static_cast<size_t>(js::Number(options, "ringTicks", static_cast<double>(opts.ring_ticks)));
  opts.spin_ns = static_cast<int64_t>(js::Number(options, "spinNs", static_cast<double>(opts.spin_ns)));
  if (!(opts.sample_hz > 0) || !std::isfinite(opts.sample_hz)) {
    throw Error(ErrorCode::kInvalidArgument, "sampleHz must be a positive number");
  }
  if (opts.ring_ticks < 2 || opts.ring_ticks > (size_t{1} << 26)) {
    throw Error(ErrorCode::kInvalidArgument, "ringTicks must be between 2 and 2^26");
  }
  const Roots roots = Roots::FromEnvironment();
  std::vector<ScheduledSource> sources;
  Napi::Value list = options.Get("sources");
  if (!list.IsArray()) throw Error(ErrorCode::kInvalidArgument, "sources must be an array of source specs");
  Napi::Array specs = list.As<Napi::Array>();
  for (uint32_t i = 0; i < specs.Length(); ++i) {
    Napi::Value item = specs.Get(i);
    if (!item.IsObject()) throw Error(ErrorCode::kInvalidArgument, "every source spec must be an object");
    SourceSpec spec = ParseSpec(item.As<Napi::Object>());
    const SourceKind* kind = FindSourceKind(spec.kind);
    if (kind == nullptr) throw Error(ErrorCode::kInvalidArgument, "unknown source kind: " + spec.kind);
    std::unique_ptr<Source> source = kind->create(roots, spec);
    const double hz = std::min({spec.hz > 0 ? spec.hz : opts.sample_hz, opts.sample_hz, source->max_hz()});
    // Rounding must not lift a source past its own ceiling: 1010 Hz / 50 Hz rounds to every 20
    // ticks, 50.5 Hz, which NVML cannot serve.
    const double fewest_ticks = std::ceil(opts.sample_hz / source->max_hz() - 1e-9);
    const double every = std::max({1.0, std::round(opts.sample_hz / hz), fewest_ticks});
    sources.push_back({std::move(source), static_cast<uint32_t>(every)});
  }
  return std::make_shared<Sampler>(opts, std::move(sources));
}
}  // namespace

Napi::Function SamplerWrap::Define(Napi::Env env) {
  return DefineClass(env, "Sampler",
                     {
                         InstanceMethod<&SamplerWrap::Channels>("channels"),
                         InstanceMethod<&SamplerWrap::Start>("start"),
                         InstanceMethod<&SamplerWrap::Stop>("stop"),
                         InstanceMethod<&SamplerWrap::Drain>("drain"),
                         InstanceMethod<&SamplerWrap::Stats>("stats"),
                         InstanceMethod<&SamplerWrap::State>("state"),
                     });
}

SamplerWrap::SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    if (!info[0].IsObject()) throw Error(ErrorCode::kInvalidArgument, "Sampler needs an options object");
    sampler_ = Build(info[0].As<Napi::Object>());
    env.GetInstanceData<Addon>()->Register(sampler_);
  })
}

Napi::Value SamplerWrap::Channels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const auto& sources = sampler_->sources();
  for (size_t s = 0; s < sources.size(); ++s) {
    const double hz = sampler_->options().sample_hz / sources[s].every_ticks;
    for (const Channel& c : sources[s].source->channels()) {
      Napi::Object obj = js::ChannelToJs(env, c);
      obj.Set("source", sources[s].source->kind());
      obj.Set("sourceIndex", static_cast<double>(s));
      obj.Set("everyTicks", static_cast<double>(sources[s].every_ticks));
      obj.Set("hz", hz);
      out.Set(n++, obj);
    }
  }
  return out;
}

Napi::Value SamplerWrap::Start(const Napi::CallbackInfo& info) {
  EMP_JS_GUARD(info.Env(), { sampler_->Start(); })
  return Napi::BigInt::New(info.Env(), sampler_->started_ns());
}

Napi::Value SamplerWrap::Stop(const Napi::CallbackInfo& info) {
  sampler_->Stop();
  return info.Env().Undefined();
}

Napi::Value SamplerWrap::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TickRing& ring = sampler_->ring();
  size_t max_ticks = std::numeric_limits<size_t>::max();
  if (info.Length() > 0 && info[0].IsNumber()) max_ticks = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  const size_t n = std::min(ring.Readable(), max_ticks);
  const size_t channels = ring.channels();

  auto t_ns = Napi::TypedArrayOf<int64_t>::New(env, n);
  auto lateness_ns = Napi::Float64Array::New(env, n);
  auto read_ns = Napi::Float64Array::New(env, n);
  auto read_mask = Napi::Uint32Array::New(env, n);
  auto values = Napi::TypedArrayOf<uint64_t>::New(env, n * channels);
  int64_t* t = t_ns.Data();
  double* late = lateness_ns.Data();
  double* rd = read_ns.Data();
  uint32_t* mask = read_mask.Data();
  uint64_t* v = values.Data();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* record = ring.Peek(i);
    const auto* header = reinterpret_cast<const TickHeader*>(record);
    const uint64_t* raw = record + sizeof(TickHeader) / sizeof(uint64_t);
    t[i] = header->t_ns;
    late[i] = static_cast<double>(header->lateness_ns);
    rd[i] = static_cast<double>(header->read_ns);
    mask[i] = static_cast<uint32_t>(header->read_mask);
    // Column-major, so each channel's series is one contiguous slice for Arrow.
    for (size_t c = 0; c < channels; ++c) v[c * n + i] = raw[c];
  }
  ring.Consume(n);

  Napi::Object out = Napi::Object::New(env);
  out.Set("ticks", static_cast<double>(n));
  out.Set("channels", static_cast<double>(channels));
  out.Set("tNs", t_ns);
  out.Set("latenessNs", lateness_ns);
  out.Set("readNs", read_ns);
  out.Set("readMask", read_mask);
  out.Set("values", values);
  return out;
}

Napi::Value SamplerWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SamplerStats stats = sampler_->stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("ticks", static_cast<double>(stats.ticks));
  out.Set("dropped", static_cast<double>(stats.dropped));
  out.Set("missed", static_cast<double>(stats.missed));
  out.Set("wakeMarginNs", static_cast<double>(stats.wake_margin_ns));
  out.Set("pending", static_cast<double>(sampler_->ring().Readable()));
  out.Set("ringTicks", static_cast<double>(sampler_->ring().capacity()));
  out.Set("periodNs", static_cast<double>(sampler_->period_ns()));
  out.Set("startedNs", Napi::BigInt::New(env, sampler_->started_ns()));
  Napi::Array errors = Napi::Array::New(env, stats.read_errors.size());
  for (size_t i = 0; i < stats.read_errors.size(); ++i) errors.Set(i, static_cast<double>(stats.read_errors[i]));
  out.Set("readErrors", errors);
  return out;
}

Napi::Value SamplerWrap::State(const Napi::CallbackInfo& info) {
  switch (sampler_->state()) {
    case SamplerState::kIdle: return Napi::String::New(info.Env(), "idle");
    case SamplerState::kRunning: return Napi::String::New(info.Env(), "running");
    case SamplerState::kStopped: return Napi::String::New(info.Env(), "stopped");
  }
  return info.Env().Undefined();
}

}  // namespace emp
