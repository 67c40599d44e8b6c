// Temperatures now, for gates that wait for the machine to cool: a short-lived sampler over the
// thermal source (thermal zones and CPU hwmon), read a few times and the latest value kept.
import { addon } from "../native.js";
import { sleep } from "../util/sleep.js";
import { Sampler } from "./sampler.js";

/** How long the sampler runs: a few reads at the source's 10 Hz ceiling. */
const READ_WINDOW_MS = 250;

/** The latest temperature of every sensor, °C by channel name; empty where none can be read. */
export async function readTemperaturesC(): Promise<Map<string, number>> {
  const [report] = addon.probe(["thermal"]);
  const out = new Map<string, number>();
  if (report?.status !== "available") return out;
  const sampler = new Sampler({ sampleHz: 10, sources: [{ kind: "thermal" }] });
  sampler.start();
  await sleep(READ_WINDOW_MS);
  sampler.stop();
  const batch = sampler.drain();
  sampler.channels.forEach((channel, c) => {
    if (channel.quantity !== "temperature") return;
    const values = batch.channelNumbers(c, channel.signed);
    for (let i = batch.ticks - 1; i >= 0; i--) {
      if (batch.wasRead(i, channel.sourceIndex)) {
        out.set(channel.name, (values[i] as number) * channel.scale);
        break;
      }
    }
  });
  return out;
}
