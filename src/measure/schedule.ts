// The order in which a session runs its commands. Measuring A and B minutes apart puts the
// machine's drift (temperature, frequency, background work) into their difference; interleaving
// them spreads the drift over both, and shuffling each cycle keeps a periodic disturbance from
// always landing on the same command.
import { mulberry32 } from "../stats/random.js";

/**
 * interleaved: every cycle runs the commands in the order given (A B A B ...); shuffled: every
 * cycle in an order drawn from the seed (the default); grouped: all of A's runs, then all of B's,
 * as hyperfine does.
 */
export type RunOrder = "interleaved" | "shuffled" | "grouped";

export const RUN_ORDERS: readonly RunOrder[] = ["interleaved", "shuffled", "grouped"];

/** One run of the schedule: which command, and whether it is a warmup. */
export interface Slot {
  command: number;
  warmup: boolean;
}

/**
 * Every run of `commands` commands, `warmup` warmups and `repeat` measured runs each. Warmups come
 * in cycles of their own before the measured cycles, so no command's measured runs start on a
 * machine the other commands have not yet warmed; in grouped order each command has its warmups
 * right before its runs.
 */
export function planSlots(
  commands: number,
  warmup: number,
  repeat: number,
  order: RunOrder,
  seed: number,
): Slot[] {
  const slots: Slot[] = [];
  if (order === "grouped") {
    for (let command = 0; command < commands; command++) {
      for (let i = 0; i < warmup; i++) slots.push({ command, warmup: true });
      for (let i = 0; i < repeat; i++) slots.push({ command, warmup: false });
    }
    return slots;
  }
  const random = mulberry32(seed);
  const cycle = (isWarmup: boolean) => {
    const commandsInOrder = Array.from({ length: commands }, (_, i) => i);
    if (order === "shuffled") shuffle(commandsInOrder, random);
    for (const command of commandsInOrder) slots.push({ command, warmup: isWarmup });
  };
  for (let i = 0; i < warmup; i++) cycle(true);
  for (let i = 0; i < repeat; i++) cycle(false);
  return slots;
}

/** Fisher-Yates, in place. */
function shuffle(values: number[], random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j] as number, values[i] as number];
  }
}
