/**
 * The overlay's limits and timers: defaults, and the check that runs before anything
 * starts (a bad option is a named error at `joinMeeting()`, not a stuck mesh later).
 *
 * @module
 */
import type { OverlayOptions } from "./types.ts";

/** The defaults of {@linkcode OverlayOptions}. */
export const OVERLAY_DEFAULTS: Readonly<Required<OverlayOptions>> = Object.freeze({
  lowDegree: 6,
  targetDegree: 8,
  highDegree: 12,
  maxDegree: 16,
  heartbeatMs: 1_000,
  rewireIntervalMs: 30_000,
  suspicionMs: 6_000,
  graftTimeoutMs: 400,
  lazyFlushMs: 100,
  digestIntervalMs: 10_000,
  tombstoneMs: 120_000,
  seenMs: 120_000,
});

/**
 * Check overlay options before anything starts.
 *
 * @param options The options.
 * @throws {RangeError} Naming the first option that is not a positive number, or degrees
 *   out of order.
 */
export function checkOverlayOptions(options: OverlayOptions): void {
  resolveOverlayOptions(options);
}

/**
 * The options in force: the given ones over the defaults, checked.
 *
 * @param options The options (undefined fields take the default).
 * @returns Every option.
 * @throws {RangeError} As {@linkcode checkOverlayOptions}.
 */
export function resolveOverlayOptions(options: OverlayOptions): Required<OverlayOptions> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: Required<OverlayOptions> = { ...OVERLAY_DEFAULTS, ...given };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(
        `Invalid overlay option ${k}: ${v} (expected a positive number; leave it out for the default)`,
      );
    }
  }
  if (
    !(o.lowDegree <= o.targetDegree && o.targetDegree <= o.highDegree &&
      o.highDegree <= o.maxDegree)
  ) {
    throw new RangeError(
      `Invalid overlay degrees: need lowDegree ≤ targetDegree ≤ highDegree ≤ maxDegree, got ` +
        `${o.lowDegree} / ${o.targetDegree} / ${o.highDegree} / ${o.maxDegree}`,
    );
  }
  return o;
}
