import type { RecordBatch, Table } from "apache-arrow";
import { energyAtJ } from "../energy/interpolate.js";
import { EnergySeries } from "../energy/series.js";
import { EmpError } from "../errors.js";
import type { SamplerChannelInfo, SourceKind } from "../native.js";
import { readArrowTable } from "../results/read.js";
import { TickBatch } from "../sampling/sampler.js";

export interface PowerPoint {
  /** Seconds since the session's first sample. */
  t_s: number;
  domain: string;
  power_w: number;
}

export interface PhaseSpan {
  phase: string;
  /** The run's number in the session, for warmup and run spans. */
  run: number | null;
  start_s: number;
  end_s: number;
}

export interface PowerTrace {
  session: string;
  /** CLOCK_MONOTONIC ns of the session's first sample: t_s = 0. */
  originNs: bigint;
  points: PowerPoint[];
  phases: PhaseSpan[];
  /** Domains with an energy counter or power gauge in the samples. */
  domains: string[];
}

/** Enough points for a plot a few thousand pixels wide, few enough for an HTML page to stay small. */
export const DEFAULT_MAX_POINTS = 1500;

/**
 * Reads one samples file. Power is averaged over bins of equal length: at least two sensor updates
 * each (a single RAPL update every ~1 ms differenced alone is mostly quantisation noise) and no more
 * than `maxPoints` bins over the session.
 */
export function readPowerTrace(
  path: string,
  session: string,
  options: { domains?: readonly string[]; maxPoints?: number } = {},
): PowerTrace {
  const table = readArrowTable(
    path,
    "emp report and emp plot repair a file a crash or a full disk left torn, where its folder can be written",
  );
  const channels = channelsOf(table);
  const series = EnergySeries.forChannels(channels).filter(
    (s) =>
      options.domains === undefined || options.domains.length === 0 || options.domains.includes(s.domain),
  );
  const phases: PhaseSpan[] = [];
  let originNs: bigint | undefined;
  let open: { phase: string; run: number | null; startNs: bigint; endNs: bigint } | undefined;
  const closeSpan = () => {
    if (open && originNs !== undefined) {
      phases.push({
        phase: open.phase,
        run: open.run,
        start_s: Number(open.startNs - originNs) / 1e9,
        end_s: Number(open.endNs - originNs) / 1e9,
      });
    }
  };
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue;
    const drained = drainOf(batch, channels);
    originNs ??= drained.raw.tNs[0] as bigint;
    for (const s of series) s.append(drained);
    // Phase spans: consecutive ticks with the same phase (and run, for warmups and runs).
    const phaseVector = batch.getChild("phase");
    const runVector = batch.getChild("run");
    for (let i = 0; i < batch.numRows; i++) {
      const phase = String(phaseVector?.get(i) ?? "");
      const run =
        phase === "run" || phase === "warmup" ? ((runVector?.get(i) as number | null) ?? null) : null;
      const t = drained.raw.tNs[i] as bigint;
      if (open && open.phase === phase && open.run === run) {
        open.endNs = t;
      } else {
        if (open) open.endNs = t;
        closeSpan();
        open = { phase, run, startNs: t, endNs: t };
      }
    }
  }
  closeSpan();
  const points: PowerPoint[] = [];
  for (const s of series)
    points.push(...binnedPower(s, originNs ?? 0n, options.maxPoints ?? DEFAULT_MAX_POINTS));
  return {
    session,
    originNs: originNs ?? 0n,
    points,
    phases,
    domains: [...new Set(series.map((s) => s.domain))],
  };
}

/** The sampler's channels as samples.arrow's field metadata records them. */
function channelsOf(table: Table): SamplerChannelInfo[] {
  return table.schema.fields
    .filter((f) => f.metadata.has("quantity") && f.metadata.has("source_index"))
    .map((f) => {
      const m = f.metadata;
      const slash = f.name.indexOf("/");
      return {
        name: slash >= 0 ? f.name.slice(slash + 1) : f.name,
        domain: m.get("domain") ?? f.name,
        quantity: m.get("quantity") as SamplerChannelInfo["quantity"],
        unit: m.get("unit") ?? "",
        scale: Number(m.get("scale")),
        wrap: Number(m.get("wrap") ?? 0),
        counter: m.get("counter") === "true",
        signed: m.get("signed") === "true",
        origin: m.get("origin") ?? "",
        source: (m.get("source") ?? "") as SourceKind,
        sourceIndex: Number(m.get("source_index")),
        everyTicks: 1,
        hz: Number(m.get("hz") ?? 0),
      };
    });
}

/** One record batch as the sampler's drain gave it, so EnergySeries reads it like live ticks. */
function drainOf(batch: RecordBatch, channels: readonly SamplerChannelInfo[]): TickBatch {
  const ticks = batch.numRows;
  const values = new BigUint64Array(ticks * channels.length);
  channels.forEach((c, index) => {
    const column = batch.getChild(`${c.source}/${c.name}`)?.toArray() as
      | BigUint64Array
      | BigInt64Array
      | Uint32Array
      | undefined;
    if (column === undefined) throw new EmpError("E_IO", `samples lack the column ${c.source}/${c.name}`);
    const out = values.subarray(index * ticks, (index + 1) * ticks);
    if (column instanceof Uint32Array) {
      // Counters that wrap at or below 2^32 are stored as uint32.
      for (let i = 0; i < ticks; i++) out[i] = BigInt(column[i] as number);
    } else {
      const raw =
        column instanceof BigInt64Array
          ? new BigUint64Array(column.buffer, column.byteOffset, ticks)
          : column;
      out.set(raw.subarray(0, ticks));
    }
  });
  return new TickBatch({
    ticks,
    channels: channels.length,
    tNs: batch.getChild("t_ns")?.toArray() as BigInt64Array,
    latenessNs: batch.getChild("lateness_ns")?.toArray() as Int32Array,
    readNs: batch.getChild("read_ns")?.toArray() as Int32Array,
    readMask: batch.getChild("read_mask")?.toArray() as Uint8Array | Uint16Array | Uint32Array,
    values,
  });
}

function binnedPower(series: EnergySeries, originNs: bigint, maxPoints: number): PowerPoint[] {
  const first = series.firstReadingNs;
  const last = series.pointsNs[series.length - 1];
  if (first === undefined || last === undefined || series.length < 2) return [];
  const spanNs = Number(last - first);
  const updateNs = series.updatePeriodNs ?? spanNs / (series.length - 1);
  const binNs = Math.max(spanNs / maxPoints, 2 * updateNs);
  const bins = Math.max(1, Math.floor(spanNs / binNs));
  const points: PowerPoint[] = [];
  let t0 = first;
  let e0 = energyAtJ(series, t0);
  for (let b = 1; b <= bins; b++) {
    const t1 = b === bins ? last : first + BigInt(Math.round(b * binNs));
    const e1 = energyAtJ(series, t1);
    const dtS = Number(t1 - t0) / 1e9;
    if (dtS > 0) {
      points.push({
        t_s: (Number(t0 - originNs) + Number(t1 - t0) / 2) / 1e9,
        domain: series.domain,
        power_w: (e1 - e0) / dtS,
      });
    }
    t0 = t1;
    e0 = e1;
  }
  return points;
}
