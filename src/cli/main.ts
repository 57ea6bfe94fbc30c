/**
 * The `meshmeet` command line: `serve`, `join`, `mcp`, `lookup`, `doctor`, `code`.
 *
 * Run it as `deno task meshmeet <command>` or `deno run -A jsr:@meshmeet/core/cli`.
 *
 * @module
 */
import { MeshmeetError } from "../errors.ts";
import { VERSION } from "../http/control_api.ts";
import { generateInvitationCode } from "../invitation_code.ts";
import { args, exit, runtimeName, writeStderr, writeStdout } from "../runtime/process.ts";
import { UsageError } from "./args.ts";
import { doctor, DOCTOR_USAGE } from "./doctor.ts";
import { join, JOIN_USAGE } from "./join.ts";
import { lookup, LOOKUP_USAGE } from "./lookup.ts";
import { mcp, MCP_USAGE } from "./mcp.ts";
import { serve, SERVE_USAGE } from "./serve.ts";

const USAGE = `meshmeet <command> [options]

Commands:
  serve                     run a bootstrap/relay node (--http: with the control API)
  join <code>               join a meeting from this terminal (--http: with the control API)
  mcp <code>                join a meeting as an AI client's MCP server on stdio
  lookup <topic id | code>  what the DHT knows about a topic
  doctor                    check STUN, NAT behaviour, ICE candidates and bootstrap nodes
  code                      print a new invitation code

Run "meshmeet <command> --help" for the options of a command; "meshmeet --version".`;

const CODE_USAGE = `meshmeet code

Print a new invitation code (five words and four digits, about 68 bits).`;

const USAGES: Record<string, string> = {
  serve: SERVE_USAGE,
  join: JOIN_USAGE,
  mcp: MCP_USAGE,
  lookup: LOOKUP_USAGE,
  doctor: DOCTOR_USAGE,
  code: CODE_USAGE,
};

/**
 * Run the CLI with the given arguments.
 *
 * @param argv Arguments (command first).
 * @returns Exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    writeStderr(USAGE + "\n");
    return 2;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    writeStdout(USAGE + "\n");
    return 0;
  }
  if (command === "--version" || command === "version") {
    writeStdout(`meshmeet ${VERSION} (${runtimeName})\n`);
    return 0;
  }
  if (!Object.hasOwn(USAGES, command)) {
    writeStderr(`meshmeet: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
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
      case "mcp":
        return await mcp(rest);
      case "lookup":
        return await lookup(rest);
      case "doctor":
        return await doctor(rest);
      case "code":
        if (rest.length > 0) throw new UsageError(`code takes no arguments`);
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
    const message = e instanceof MeshmeetError || e.name === "Error"
      ? e.message
      : `${e.name}: ${e.message}`;
    writeStderr(`meshmeet ${command}: ${message.split("\n")[0]}\n`);
    return 1;
  }
}

if (import.meta.main) exit(await main(args()));
