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
    std::unique_ptr<Source> source = CreateKind(*kind, roots, spec);
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
  EMP_JS_GUARD(env, {
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
  })
}

Napi::Value SamplerWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    sampler_->Start();
    return Napi::BigInt::New(env, sampler_->started_ns());
  })
}

Napi::Value SamplerWrap::Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    sampler_->Stop();
    return env.Undefined();
  })
}

namespace {
// Nanosecond spans stored as int32: a tick more than 2.1 s late, or a read that long, saturates.
int32_t SaturateI32(int64_t ns) noexcept {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(ns > kMax ? kMax : (ns < kMin ? kMin : ns));
}

// The drain buffer's columns, their widths in bytes: TypeScript reads it with the same layout
// (sampling/sampler.ts), and test/contracts.test.ts compares the two through DrainLayout.
constexpr size_t kTimeBytes = sizeof(int64_t);
constexpr size_t kValueBytes = sizeof(uint64_t);
constexpr size_t kLatenessBytes = sizeof(int32_t);
constexpr size_t kReadBytes = sizeof(int32_t);
// The most sources a read mask can name: one bit each, in at most 32 bits.
constexpr size_t kMaxMaskSources = 32;

size_t ReadMaskBytes(size_t sources) noexcept { return sources <= 8 ? 1 : (sources <= 16 ? 2 : 4); }

// Copies n ticks out of the ring into the columns: the one pass that turns records into series.
template <typename Mask>
void Transpose(const TickRing& ring, size_t n, int64_t* t, uint64_t* v, int32_t* late, int32_t* rd, Mask* mask) {
  const size_t channels = ring.channels();
  const size_t words = ring.record_words();
  constexpr size_t kHeaderWords = sizeof(TickHeader) / sizeof(uint64_t);
  // The unread ticks lie in at most two contiguous runs of records (before and after the wrap).
  for (size_t i = 0; i < n;) {
    const uint64_t* record = ring.Peek(i);
    const size_t run = std::min(n - i, ring.ContiguousFrom(i));
    for (size_t end = i + run; i < end; ++i, record += words) {
      const auto* header = reinterpret_cast<const TickHeader*>(record);
      t[i] = header->t_ns;
      late[i] = SaturateI32(header->lateness_ns);
      rd[i] = SaturateI32(header->read_ns);
      mask[i] = static_cast<Mask>(header->read_mask);
      // Column-major, so each channel's series is one contiguous slice for Arrow.
      uint64_t* out = v + i;
      for (size_t c = 0; c < channels; ++c, out += n) *out = record[kHeaderWords + c];
    }
  }
}
}  // namespace

// One ArrayBuffer holding every column of the drained ticks, which TypeScript views as typed
// arrays (TickBatch): one allocation and no property sets per drain, which at 500 ticks a drain
// cost more than the copy itself. Layout for n ticks of c channels, 8-byte columns first so
// every view is aligned: t_ns int64[n], values uint64[c*n] (column-major), lateness_ns int32[n],
// read_ns int32[n], read_mask uint8/16/32[n] (as wide as the source count needs).
Napi::Value SamplerWrap::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    TickRing& ring = sampler_->ring();
    size_t max_ticks = std::numeric_limits<size_t>::max();
    if (info.Length() > 0 && info[0].IsNumber()) {
      max_ticks = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
    }
    const size_t n = std::min(ring.Readable(), max_ticks);
    const size_t channels = ring.channels();
    const size_t mask_bytes = ReadMaskBytes(sampler_->sources().size());

    const size_t v_off = kTimeBytes * n;
    const size_t late_off = v_off + kValueBytes * n * channels;
    const size_t read_off = late_off + kLatenessBytes * n;
    const size_t mask_off = read_off + kReadBytes * n;
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, mask_off + mask_bytes * n);
    auto* base = static_cast<uint8_t*>(buffer.Data());
    auto* t = reinterpret_cast<int64_t*>(base);
    auto* v = reinterpret_cast<uint64_t*>(base + v_off);
    auto* late = reinterpret_cast<int32_t*>(base + late_off);
    auto* rd = reinterpret_cast<int32_t*>(base + read_off);
    switch (mask_bytes) {
      case 1: Transpose(ring, n, t, v, late, rd, base + mask_off); break;
      case 2: Transpose(ring, n, t, v, late, rd, reinterpret_cast<uint16_t*>(base + mask_off)); break;
      default: Transpose(ring, n, t, v, late, rd, reinterpret_cast<uint32_t*>(base + mask_off)); break;
    }
    ring.Consume(n);
    return buffer;
  })
}

Napi::Object DrainLayout(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("timeBytes", static_cast<double>(kTimeBytes));
  out.Set("valueBytes", static_cast<double>(kValueBytes));
  out.Set("latenessBytes", static_cast<double>(kLatenessBytes));
  out.Set("readBytes", static_cast<double>(kReadBytes));
  Napi::Array mask = Napi::Array::New(env, kMaxMaskSources + 1);
  for (uint32_t sources = 0; sources <= kMaxMaskSources; ++sources) {
    mask.Set(sources, static_cast<double>(ReadMaskBytes(sources)));
  }
  out.Set("readMaskBytes", mask);
  return out;
}

Napi::Value SamplerWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    SamplerStats stats = sampler_->stats();
    Napi::Object out = Napi::Object::New(env);
    out.Set("ticks", static_cast<double>(stats.ticks));
    out.Set("dropped", static_cast<double>(stats.dropped));
    out.Set("missed", static_cast<double>(stats.missed));
    out.Set("wakeMarginNs", static_cast<double>(stats.wake_margin_ns));
    out.Set("slowLagMaxNs", static_cast<double>(stats.slow_lag_max_ns));
    out.Set("pending", static_cast<double>(sampler_->ring().Readable()));
    out.Set("ringTicks", static_cast<double>(sampler_->ring().capacity()));
    out.Set("periodNs", static_cast<double>(sampler_->period_ns()));
    out.Set("startedNs", Napi::BigInt::New(env, sampler_->started_ns()));
    Napi::Array errors = Napi::Array::New(env, stats.read_errors.size());
    for (size_t i = 0; i < stats.read_errors.size(); ++i) errors.Set(i, static_cast<double>(stats.read_errors[i]));
    out.Set("readErrors", errors);
    return out;
  })
}

Napi::Value SamplerWrap::State(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EMP_JS_GUARD(env, {
    switch (sampler_->state()) {
      case SamplerState::kIdle: return Napi::String::New(env, "idle");
      case SamplerState::kRunning: return Napi::String::New(env, "running");
      case SamplerState::kStopped: return Napi::String::New(env, "stopped");
    }
    return env.Undefined();
  })
}

}  // namespace emp
