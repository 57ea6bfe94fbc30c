/**
 * The logger meshmeet hands to js-libp2p: libp2p's own `debug`-based logger for every
 * component the `DEBUG` patterns switch on (`DEBUG=libp2p:*`, or `localStorage.debug` in a
 * browser, exactly as before), and one shared silent logger for the rest.
 *
 * Why: libp2p asks for a logger per component, connection and stream (`newScope()`), and
 * `@libp2p/logger` 6.2.13 builds three `debug` instances each time and maps every enabled
 * pattern to a string while doing so, whether anything prints or not. In a join (two peers
 * and a relay in one process, `bench/probes/join_timeline.ts`) that was about 7 ms of CPU
 * per round on the 2-core VM (V8 profile: `newScope` and `forComponent` of `@libp2p/logger`
 * 88 ticks in 12 rounds); with this logger process CPU per round fell from 228–236 to
 * 215–224 ms and the join's p50 by 5–14 ms (interleaved runs, BENCHMARKS.md run J).
 *
 * @module
 */
import type { ComponentLogger, Logger } from "@libp2p/interface";
import { enabled, logger } from "@libp2p/logger";

const noop = () => {};

/**
 * A component's logger: libp2p's when a `DEBUG` pattern selects it (or its errors or
 * trace), else a silent one whose scopes are checked the same way, so that a pattern
 * naming a scope (`DEBUG=libp2p:*:circuit-relay`) still works. With no pattern set each
 * check is a loop over empty lists.
 */
function scoped(name: string): Logger {
  if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return logger(name);
  return Object.assign(() => {}, {
    error: noop,
    trace: noop,
    enabled: false,
    newScope: (scope: string) => scoped(`${name}:${scope}`),
  });
}

/** The libp2p logger of meshmeet's nodes (see the module documentation). */
export const libp2pLogger: ComponentLogger = { forComponent: scoped };
