/**
 * The `meshmeet` command line: `serve`, `join`, `code`.
 *
 * Run it as `deno task meshmeet <command>` or `deno run -A jsr:@meshmeet/core/cli`.
 *
 * @module
 */
import { MeshmeetError } from "../errors.ts";
import { generateInvitationCode } from "../invitation_code.ts";
import { args, exit, writeStderr, writeStdout } from "../runtime/process.ts";
import { UsageError } from "./args.ts";
import { join, JOIN_USAGE } from "./join.ts";
import { serve, SERVE_USAGE } from "./serve.ts";

const USAGE = `meshmeet <command> [options]

Commands:
  serve          run a bootstrap/relay node
  join <code>    join a meeting from this terminal
  code           print a new invitation code

Run "meshmeet <command> --help" for the options of a command.`;

const USAGES: Record<string, string> = {
  serve: SERVE_USAGE,
  join: JOIN_USAGE,
  code: "meshmeet code\n\nPrint a new invitation code.",
};

/**
 * Run the CLI with the given arguments.
 *
 * @param argv Arguments (command first).
 * @returns Exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    writeStdout(USAGE + "\n");
    return command === undefined ? 2 : 0;
  }
  if (!(command in USAGES)) {
    writeStderr(`meshmeet: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    writeStdout(USAGES[command] + "\n");
    return 0;
  }
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "join":
        return await join(rest);
      case "code":
        writeStdout(generateInvitationCode() + "\n");
        return 0;
    }
    return 2;
  } catch (err) {
    if (err instanceof UsageError) {
      writeStderr(`meshmeet ${command}: ${err.message}\n\n${USAGES[command]}\n`);
      return 2;
    }
    const e = err as Error;
    writeStderr(
      `meshmeet ${command}: ${
        e instanceof MeshmeetError ? e.message : `${e.name}: ${e.message}`
      }\n`,
    );
    return 1;
  }
}

if (import.meta.main) exit(await main(args()));
