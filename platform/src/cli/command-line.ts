import { parseArgs, type ParseArgsConfig } from "node:util";

/** What a command accepts: node:util's parseArgs options (strict mode is always on). */
export type CommandLineSpec = Omit<ParseArgsConfig, "strict" | "tokens">;

/**
 * Parses a command's arguments with node:util `parseArgs` in strict mode. An unknown or
 * malformed flag ends the process with one line on stderr and exit code 2, so a typo such
 * as `--chek` is a usage error rather than a run that does something else.
 */
export function parseCommandLine<const T extends CommandLineSpec>(command: string, usage: string, spec: T): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...spec, strict: true });
  } catch (err) {
    if (!isParseArgsError(err)) throw err;
    return exitWithUsage(command, usage, describeParseArgsError(err));
  }
}

/** Ends the process as a usage error: `<command>: <problem> (usage: <usage>)` on stderr, exit code 2. */
export function exitWithUsage(command: string, usage: string, problem: string): never {
  process.stderr.write(`${command}: ${problem} (usage: ${usage})\n`);
  process.exit(2);
}

function isParseArgsError(err: unknown): err is TypeError & { code: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof TypeError && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

// With positionals allowed, Node's message for an unknown option goes on to explain `--`
// escaping; its first sentence ("Unknown option '--chek'") is the part worth a line.
function describeParseArgsError(err: Error): string {
  return err.message.split(". ")[0]!;
}
