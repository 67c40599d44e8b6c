// The library entry point for TypeScript users.

export { type AttainabilityOptions, attainabilityWarning, smallestPValue } from "./analysis/attainable.js";
export { type ChangePoint, type ChangePointOptions, changePoints } from "./analysis/change-points.js";
export {
  CLIFFS_THRESHOLDS,
  type CliffsMagnitude,
  cliffsDelta,
  cliffsMagnitude,
} from "./analysis/cliffs-delta.js";
export { cohensD } from "./analysis/cohens-d.js";
export { adjustPValues, CORRECTIONS, type Correction } from "./analysis/correction.js";
export { normalCdf, studentTCdf } from "./analysis/distributions.js";
export { type MannWhitneyResult, mannWhitneyU } from "./analysis/mann-whitney.js";
export { firstRunIsOutlier, modifiedZScores, outlierIndices } from "./analysis/outliers.js";
export { type RatioOfMedians, ratioOfMedians } from "./analysis/ratio.js";
export { type WelchResult, welchTTest } from "./analysis/welch.js";
export {
  COMPARE_DEFAULTS,
  type CompareCommand,
  type CompareOptions,
  compare,
} from "./compare/compare.js";
export { csvTable, markdownTable } from "./compare/export.js";
export { expandCommands, type ParameterList, type ParameterScan } from "./compare/parameters.js";
export type { CommandComparison, CommandSummary, CompareSummary } from "./compare/summary.js";
export { loadStudy } from "./config/load.js";
export { type ResolvedStudy, resolveStudy, type StudyFlags } from "./config/resolve.js";
export type { StageGroup } from "./config/study.js";
export { STUDY_DEFAULTS, type StudyConfig } from "./config/study.js";
export {
  type Baseline,
  type BaselineDrift,
  baselineDrift,
  DEFAULT_DRIFT_THRESHOLD,
  measureBaseline,
  type NetEnergy,
  netEnergy,
  runEnergy,
} from "./energy/baseline.js";
export { Counter, type CounterUpdate, counterDifference } from "./energy/counter.js";
export {
  cpuTicks,
  DEFAULT_IDLE_SHARE,
  DEFAULT_TDP_PER_CPU_W,
  type EnergyEstimate,
  ESTIMATE_MODEL,
  type EstimateInputs,
  type EstimateOptions,
  estimatedBaselineW,
  estimateEnergy,
  estimateWarning,
  parseProcStat,
  readSystemCpuTimes,
  type SystemCpuTimes,
  systemUtilisation,
  USER_HZ,
} from "./energy/estimate.js";
export { energyAtJ, type IntervalEnergy, intervalEnergy } from "./energy/interpolate.js";
export {
  type AccountingWarning,
  type AccountingWarningCode,
  EnergySeries,
  type SeriesMethod,
} from "./energy/series.js";
export * from "./errors.js";
export type { CommitInfo, CommitSelection } from "./git/commit.js";
export { gatherHostFacts, type HostFacts, type Virtualisation } from "./host/facts.js";
export { Ledger, type LedgerRun, type LedgerRunRow } from "./ledger/ledger.js";
export { FUNCTION_DEFAULTS, type MeasureFunctionOptions, measureFunction } from "./measure/function.js";
export { type MeasuredRun, Meter, type RunSpec } from "./measure/meter.js";
export { RUN_ORDERS, type RunOrder } from "./measure/schedule.js";
export { MEASURE_DEFAULTS, type MeasureOptions, measure, type ProgressEvent } from "./measure/session.js";
export type { MeasureSummary } from "./measure/summary.js";
export type {
  ChannelInfo,
  ChildExit,
  CounterReading,
  DrainResult,
  PerfEventName,
  SamplerChannelInfo,
  SamplerOptions,
  SamplerStats,
  SensorReport,
  SensorStatus,
  SkippedCounter,
  SourceKind,
  SourceSpec,
  SpawnOptions,
  StdioOption,
} from "./native.js";
export { builtinStages, type Pipeline, StageRegistry } from "./pipeline/registry.js";
export { type PipelineHooks, runStudy, type StudyOptions, type StudyProgress } from "./pipeline/session.js";
export type {
  CommitContext,
  CommitState,
  ContextOf,
  RunContext,
  RunSlot,
  SessionContext,
  Stage,
} from "./pipeline/stage.js";
export type { CommitSummary, StudySummary } from "./pipeline/summary.js";
export { type BuiltPlot, buildPlot, type PlotKind, type PlotOptions } from "./plot/build.js";
export { type PowerTrace, readPowerTrace } from "./plot/power.js";
export { type PlotFormat, renderHtml, renderPng, renderSvg } from "./plot/render.js";
export {
  buildReport,
  type Comparison,
  type Report,
  type ReportChangePoint,
  type ReportGroup,
  type ReportOptions,
} from "./report/analyze.js";
export { formatReport } from "./report/format.js";
export { type CommitOrder, orderCommits } from "./report/history.js";
export { type EnergyKind, type LoadedResults, loadResults, type RunRow } from "./report/load.js";
export { writeFileAtomic, writeJsonAtomic } from "./results/atomic.js";
export { type Recovery, recoverSamples } from "./results/recover.js";
export {
  type RunEnergyJ,
  type RunMetric,
  type RunRecord,
  RunsWriter,
  type RunsWriterOptions,
} from "./results/runs-writer.js";
export {
  channelColumn,
  DEFAULT_BATCH_TICKS,
  PHASES,
  type Phase,
  SampleRows,
  SamplesWriter,
  type SamplesWriterOptions,
  samplesSchema,
} from "./results/samples-writer.js";
export { type ChildResult, MeasuredChild, runCommand, scaledCount } from "./sampling/child.js";
export { type Marker, nowNs, Sampler, TickBatch } from "./sampling/sampler.js";
export { mulberry32 } from "./stats/random.js";
export {
  DEFAULT_CONFIDENCE,
  DEFAULT_RESAMPLES,
  DEFAULT_SEED,
  type Summary,
  type SummaryOptions,
  summarize,
} from "./stats/summary.js";
