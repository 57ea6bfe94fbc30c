/**
 * A small, strict command-line parser: `--flag`, `--key value`, `--key=value`, repeated
 * keys collect into lists, and anything unknown is a usage error.
 *
 * @module
 */

/** What a command accepts. */
export interface ArgSpec {
  /** Options that take a value. */
  values?: readonly string[];
  /** Options that take a value and may repeat (or be comma-separated). */
  lists?: readonly string[];
  /** Options without a value. */
  flags?: readonly string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Positional arguments. */
  positional: string[];
  /** Single values. */
  values: Record<string, string>;
  /** Repeated values. */
  lists: Record<string, string[]>;
  /** Flags that were given. */
  flags: Set<string>;
}

/** A command line that does not fit the command; the CLI prints it with the usage, exit 2. */
export class UsageError extends Error {
  /** @param message What was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parse arguments against a spec.
 *
 * @param argv The arguments after the command name.
 * @param spec What is accepted.
 * @returns The parsed arguments.
 * @throws {UsageError} For unknown options or missing values.
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: {}, lists: {}, flags: new Set() };
  const values = new Set(spec.values ?? []);
  const lists = new Set(spec.lists ?? []);
  const flags = new Set([...(spec.flags ?? []), "help"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      out.flags.add("help");
      continue;
    }
    if (/^-[^-]/.test(arg)) throw new UsageError(`unknown option ${arg}`);
    if (!arg.startsWith("--")) {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (flags.has(name)) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    if (!values.has(name) && !lists.has(name)) throw new UsageError(`unknown option --${name}`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) {
        throw new UsageError(`option --${name} needs a value`);
      }
      value = argv[++i];
    }
    if (lists.has(name)) {
      (out.lists[name] ??= []).push(...value.split(",").map((v) => v.trim()).filter(Boolean));
    } else out.values[name] = value;
  }
  return out;
}
