#!/usr/bin/env node
// emp's entry point: builds the program and hands every error to the one handler, which also sets
// the exit code. The program is imported inside the try so that a missing addon is reported too.
import { handleError } from "./handle-error.js";

async function main(argv: string[]): Promise<void> {
  try {
    const { buildProgram, programArgs } = await import("./program.js");
    await (await buildProgram(argv)).parseAsync(programArgs(argv));
  } catch (error) {
    process.exitCode = handleError(error);
  }
}

await main(process.argv);
