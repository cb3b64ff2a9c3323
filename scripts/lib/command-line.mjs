// Argument parsing for the repository's .mjs scripts. Several run before the build (npm start,
// npm run chaos, the dependency check), so they cannot use @shopmesh/platform/cli, which the
// compiled entry points use; this is its plain-JS twin and must behave the same.
import { parseArgs } from "node:util";

/**
 * Parses a script's arguments with node:util `parseArgs` in strict mode. An unknown or
 * malformed flag ends the process with one line on stderr and exit code 2.
 * @param {string} command the name printed before the problem
 * @param {string} usage one line: what the command accepts
 * @param {Omit<import("node:util").ParseArgsConfig, "strict" | "tokens">} spec
 */
export function parseCommandLine(command, usage, spec) {
  try {
    return parseArgs({ ...spec, strict: true });
  } catch (err) {
    if (!(err instanceof TypeError) || !String(err.code).startsWith("ERR_PARSE_ARGS_")) throw err;
    // With positionals allowed, Node's message goes on to explain `--` escaping; the first sentence is the problem.
    return exitWithUsage(command, usage, err.message.split(". ")[0]);
  }
}

/** Ends the process as a usage error: `<command>: <problem> (usage: <usage>)` on stderr, exit code 2. */
export function exitWithUsage(command, usage, problem) {
  process.stderr.write(`${command}: ${problem} (usage: ${usage})\n`);
  process.exit(2);
}
