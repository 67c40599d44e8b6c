// The library entry point for TypeScript users.

export { Counter, type CounterUpdate, counterDifference } from "./energy/counter.js";
export * from "./errors.js";
export { gatherHostFacts, type HostFacts, type Virtualisation } from "./host/facts.js";
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
