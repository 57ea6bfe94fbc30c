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
 * no `unref` (no issue found for it; UPSTREAM.md #8–#10 has the reports to file).
 *
 * Second cause, found for bootstrap nodes: Deno refs the timer of an `AbortSignal.timeout()`
 * signal while the signal has an `abort` listener (its `addEventListener` calls `refTimer`);
 * Node never lets such a timer keep the process alive. libp2p is written for Node and leaves
 * listeners on long timeout signals after `stop()`: the circuit relay server gives every
 * reservation a `retimeable-signal` of the reservation TTL (2 h) with an `abort` listener
 * and its `ReservationStore.removeReservation()` / `clear()` only drop the map entry, never
 * `signal.clear()` (@libp2p/circuit-relay-v2 4.2.13 `server/reservation-store.ts`); kad-dht
 * (20 s routing-table load), identify, ping and incoming-stream handling leave 5-30 s ones.
 * Measured with `tests/runtime/_boot_exit_probe.ts` (a bootstrap node, one participant that
 * joins and leaves, `stop()`): the process was still running 30 s after `stop()` in 3 of 3
 * runs.
 * The same Deno/Node difference hung other Node libraries on Deno (openai/openai-node#1811;
 * Node keeps the timer unref'd by design, nodejs/node#46417); no libp2p issue was found for
 * the relay server's reservations (js-libp2p#3571 is the client side's). So on Deno,
 * `AbortSignal.timeout()` here is the Node one: a signal aborted by an unref'd timer (same
 * `TimeoutError` reason), for every caller in the process. The program then ends ~1 s after
 * `stop()` (libp2p's address manager's 1 s debounced peer-store update, also on Node).
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

/** The longest delay `setTimeout` takes (2^31 - 1 ms); longer waits are chained. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Node's `AbortSignal.timeout()`: its timer never keeps the process alive. */
function unrefTimeoutSignal(ms: number): AbortSignal {
  const delay = Number(ms);
  if (arguments.length < 1 || !Number.isFinite(delay) || delay < 0) {
    throw new TypeError(
      `Failed to execute 'AbortSignal.timeout': the delay must be a finite number >= 0, got ${ms}`,
    );
  }
  const controller = new AbortController();
  const arm = (left: number) => {
    const step = Math.min(left, MAX_DELAY_MS);
    Deno.unrefTimer(setTimeout(() => {
      if (left > step) return arm(left - step);
      controller.abort(
        new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      );
    }, step));
  };
  arm(Math.trunc(delay));
  return controller.signal;
}

const deno = (globalThis as { Deno?: { unrefTimer?: unknown } }).Deno;
if (typeof deno?.unrefTimer === "function" && typeof AbortSignal.timeout === "function") {
  Object.defineProperty(AbortSignal, "timeout", {
    value: unrefTimeoutSignal,
    configurable: true,
    writable: true,
  });
}

/** Whether `AbortSignal.timeout()` timers are unref'd here (so libp2p lets the process end). */
export const timeoutSignalUnref: boolean = AbortSignal.timeout === unrefTimeoutSignal;
