// The approach of interpreted tools, for comparison: a plain Node loop reading the same files with
// fs.readSync at absolute deadlines. MODE "poll": setTimeout for waits of a millisecond or more,
// setImmediate polling below that; MODE "timer": setTimeout only (its 1 ms floor caps the rate).
// Prints JSON like sample_loop.c.
// usage: node node_loop.mjs HZ SECONDS MODE FILES_JSON   (FILES_JSON: [{path, offset, bytes, text}])
import { openSync, readFileSync, readSync } from "node:fs";

const [hz, seconds] = process.argv.slice(2, 4).map(Number);
const mode = process.argv[4];
const files = JSON.parse(process.argv[5]).map((f) => ({ ...f, fd: openSync(f.path, "r") }));
const periodNs = BigInt(Math.round(1e9 / hz));
const buf = Buffer.alloc(64);
const capacity = Math.ceil(hz * seconds) + 16;
const lateness = new Float64Array(capacity);
const readNs = new Float64Array(capacity);
const values = new Array(files.length).fill(0n);
let ticks = 0;
let missed = 0;

function mainThreadCpuNs() {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]);
}

const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuNs();
const t0 = process.hrtime.bigint();
const endNs = t0 + BigInt(Math.round(seconds * 1e9));
let k = 0n;

function tick() {
  const deadline = t0 + k * periodNs;
  if (deadline >= endNs) return finish();
  let now = process.hrtime.bigint();
  if (now < deadline) return wait(deadline - now);
  const start = now;
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const n = readSync(f.fd, buf, 0, f.bytes, f.offset);
    values[i] = f.text ? BigInt(buf.toString("latin1", 0, n).trim()) : buf.readBigUInt64LE(0);
  }
  now = process.hrtime.bigint();
  lateness[ticks] = Number(start - deadline);
  readNs[ticks] = Number(now - start);
  ticks++;
  let next = k + 1n;
  const behind = now - (t0 + next * periodNs);
  if (behind > periodNs) {
    missed += Number(behind / periodNs);
    next += behind / periodNs;
  }
  k = next;
  const nextDeadline = t0 + k * periodNs;
  wait(nextDeadline - process.hrtime.bigint());
}

function wait(remainingNs) {
  if (mode === "timer") setTimeout(tick, Math.max(0, Math.round(Number(remainingNs) / 1e6)));
  else if (remainingNs >= 1_000_000n) setTimeout(tick, Number(remainingNs / 1_000_000n));
  else setImmediate(tick);
}

function finish() {
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const mainNs = mainThreadCpuNs() - main0;
  const late = lateness.slice(0, ticks).sort();
  const read = readNs.slice(0, ticks).sort();
  const q = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  console.log(
    JSON.stringify({
      ticks,
      missed,
      wall_ns: wallNs,
      cpu_ns: (cpu.user + cpu.system) * 1000,
      main_thread_cpu_ns: mainNs,
      lateness_ns: { p50: q(late, 0.5), p99: q(late, 0.99), p999: q(late, 0.999), max: late[ticks - 1] },
      read_ns: { p50: q(read, 0.5), p99: q(read, 0.99), max: read[ticks - 1] },
      checksum: String(values[0]),
    }),
  );
}

tick();
