/**
 * Let Deno programs end by themselves once meshmeet is stopped.
 *
 * libp2p's peer store takes its locks from `mortice`, which opens one `BroadcastChannel`
 * per process (to serve locks to worker threads) and then calls `channel.unref?.()` so
 * that the channel does not keep the process alive. Node's `BroadcastChannel` has
 * `unref()`; Deno's web `BroadcastChannel` has none, so the call did nothing and every Deno
 * program that had started a libp2p node hung after `leave()` / `stop()` until killed
 * (measured: `startBootstrapNode()` + `stop()` still running after 60 s; with this file,
 * it exits at once; `tests/runtime/webrtc_test.ts` checks a whole join/leave).
 *
 * Deno's `BroadcastChannel` does carry the switch that `node:worker_threads` uses
 * (a method keyed by the symbol `refBroadcastChannel`); this file gives the class the
 * Node-style `ref()` / `unref()` on top of it, once, and only where they are missing.
 * Upstream: mortice `src/node.ts` (`channel.unref?.()`); Deno's web `BroadcastChannel` has
 * no `unref` (no issue found for it).
 *
 * The Node and browser variants of this file do nothing.
 *
 * @module
 */

type Refable = { ref?: () => void; unref?: () => void } & Record<symbol, unknown>;

const proto = globalThis.BroadcastChannel?.prototype as unknown as Refable | undefined;
const toggle = proto &&
  Object.getOwnPropertySymbols(proto).find((s) => s.description === "refBroadcastChannel");
if (proto && toggle && typeof proto.unref !== "function") {
  const set = (self: Refable, refed: boolean) => (self[toggle] as (r: boolean) => void)(refed);
  Object.defineProperties(proto, {
    unref: {
      value(this: Refable) {
        set(this, false);
      },
      configurable: true,
      writable: true,
    },
    ref: {
      value(this: Refable) {
        set(this, true);
      },
      configurable: true,
      writable: true,
    },
  });
}

/** Whether `BroadcastChannel` can be unref'd here (so libp2p lets the process end). */
export const broadcastChannelUnref: boolean = typeof proto?.unref === "function";
