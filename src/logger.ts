/**
 * Per-component logging, silent unless switched on.
 *
 * The library never prints by itself: every component asks the injected
 * {@linkcode ComponentLogger} for a scoped {@linkcode Logger}
 * (`meshmeet:rendezvous`, `meshmeet:connect`, …). The default logger drops everything.
 * Use {@linkcode createLogger} to switch components on with a pattern such as
 * `"meshmeet:*"` or `"meshmeet:connect,meshmeet:rendezvous"`.
 *
 * @module
 */

/** A scoped log function with an `enabled` flag, in the style of js-libp2p's loggers. */
export interface Logger {
  /** Log a line (only when this component is enabled). */
  (message: string, ...args: unknown[]): void;
  /** Log an error line (only when this component is enabled). */
  error(message: string, ...args: unknown[]): void;
  /** Whether this component prints anything. */
  readonly enabled: boolean;
}

/** Hands out scoped loggers. */
export interface ComponentLogger {
  /** Return the logger of one component, e.g. `"meshmeet:rendezvous"`. */
  forComponent(name: string): Logger;
}

/** Where enabled log lines go. */
export type LogSink = (line: string) => void;

/** Options of {@linkcode createLogger}. */
export interface CreateLoggerOptions {
  /**
   * Comma-separated component patterns; `*` matches any suffix.
   * @default {"meshmeet:*"}
   */
  enabled?: string;
  /**
   * Where lines go.
   * @default {console.error}
   */
  sink?: LogSink;
}

const noop = Object.assign((_message: string, ..._args: unknown[]) => {}, {
  error: (_message: string, ..._args: unknown[]) => {},
  enabled: false,
}) as Logger;

/** The silent logger that every component uses unless told otherwise. */
export const silentLogger: ComponentLogger = { forComponent: () => noop };

function _matcher(patterns: string): (name: string) => boolean {
  const rules = patterns.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  const regexes = rules.map((rule) => {
    const negate = rule.startsWith("-");
    const body = (negate ? rule.slice(1) : rule)
      .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*");
    return { negate, re: new RegExp(`^${body}$`) };
  });
  // As in the `debug` package: a negated rule always wins.
  return (name) =>
    regexes.some(({ negate, re }) => !negate && re.test(name)) &&
    !regexes.some(({ negate, re }) => negate && re.test(name));
}

function _format(args: unknown[]): string {
  return args.map((a) => {
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    if (typeof a === "string") return a;
    try {
      return JSON.stringify(a);
    } catch {
      return String(a);
    }
  }).join(" ");
}

/**
 * Create a logger that prints the components matching a pattern.
 *
 * @param options Which components, and where lines go.
 * @returns A {@linkcode ComponentLogger} to pass as the `logger` option.
 *
 * @example Print everything meshmeet does to stderr
 * ```ts
 * import { createLogger } from "@meshmeet/core";
 * const logger = createLogger({ enabled: "meshmeet:*", sink: () => {} });
 * logger.forComponent("meshmeet:rendezvous")("looked up %d peers", 3);
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): ComponentLogger {
  const match = _matcher(options.enabled ?? "meshmeet:*");
  const sink = options.sink ?? ((line: string) => console.error(line));
  const start = Date.now();
  return {
    forComponent(name: string): Logger {
      if (!match(name)) return noop;
      const emit = (level: string, message: string, args: unknown[]) => {
        const t = ((Date.now() - start) / 1000).toFixed(3).padStart(8);
        args = [...args];
        message = message.replace(
          /%[sdoj]/g,
          (token) => args.length > 0 ? _format([args.shift()]) : token,
        );
        const rest = args.length > 0 ? " " + _format(args) : "";
        sink(`${t}s ${name}${level} ${message}${rest}`);
      };
      return Object.assign((message: string, ...args: unknown[]) => emit("", message, args), {
        error: (message: string, ...args: unknown[]) => emit(" ERROR", message, args),
        enabled: true,
      });
    },
  };
}
