#!/usr/bin/env node
import { CommanderError } from "commander";
import { buildProgram } from "./program.js";
import { describeError, EXIT } from "./exit-codes.js";

/**
 * jqctl's entry point (the `bin` of the package): parse, run, and turn any failure into one line
 * on stderr and the exit code of its class (exit-codes.ts).
 */
async function main(): Promise<void> {
  // grpc-js sets the TLS server name to the address even when it is an IP, which makes Node print
  // a deprecation warning on every TLS call; a CLI's stderr is for the user's errors only.
  process.noDeprecation = true;
  const program = buildProgram();
  // Commander reports bad usage through exitOverride: map it to our usage code.
  for (const cmd of [program, ...allCommands(program)]) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (text, write) => write(`jqctl: ${text.replace(/^error: /, "")}`) });
  }
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
      process.exitCode = ok ? EXIT.ok : EXIT.usage;
      return;
    }
    const { line, exitCode } = describeError(error);
    process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}

function allCommands(cmd: import("commander").Command): import("commander").Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

void main();
