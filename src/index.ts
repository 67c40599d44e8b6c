// The library entry point for TypeScript users.
export * from "./errors.js";
export type {
  ChannelInfo,
  DrainResult,
  SamplerChannelInfo,
  SamplerOptions,
  SamplerStats,
  SensorReport,
  SensorStatus,
  SourceKind,
  SourceSpec,
} from "./native.js";
export { type Marker, nowNs, Sampler, TickBatch } from "./sampling/sampler.js";
