/**
 * `circuitRelayServer()` whose relayed connections do not keep a copy of what the dialing
 * side sends.
 *
 * Why: `@libp2p/circuit-relay-v2` 4.2.13 joins a relayed connection's two streams with
 * `pipe(src, dst, src)` (`createLimitedRelay()` in `utils.ts`; `src` is the dialer's hop
 * stream, `dst` the stop stream to the listener). `@libp2p/utils` 7.4.1's `pipe()` turns each
 * argument into a duplex with `messageStreamToDuplex()`, whose source is a pushable fed by a
 * "message" listener on the stream. `src` is turned into two duplexes: the first one's
 * source is read (and written to `dst`), the last one is used only as the sink for what
 * comes back, and its source is never read, so its pushable keeps every byte the dialer
 * sends until the relayed connection closes. Measured (`bench/probes/relay_buffering.ts`):
 * 64 MiB sent dialer → listener left the relay process's external memory at 65.9 MiB (from
 * 1.6) while the connection stayed open; nothing the other way. A relay held up to
 * `relayLimits.dataBytes` (64 MiB by default) per relayed connection, so a few members on
 * the relay rung could take a bootstrap node's memory. No upstream issue was found; the
 * report to file is UPSTREAM.md #3.
 *
 * The fix, in one place: the hop protocol's handler runs with the hop stream's "message"
 * listeners watched; when it returns (`createLimitedRelay()` is called synchronously at its
 * end), of the listeners still registered that have the same source text (the two
 * `messageStreamToDuplex()` readers of one stream), all but the first are removed. The first
 * is the one `pipe()` reads; removing a later one only stops the unread pushable from being
 * fed. The relay's byte counting (`countStreamBytes()`, its own listener) is untouched. If a
 * new version of the library no longer registers two readers, nothing is removed and the
 * relay behaves as the library does; `tests/relay_server_test.ts` then fails and says so.
 *
 * @module
 */
import {
  circuitRelayServer,
  type CircuitRelayServerComponents,
  type CircuitRelayServerInit,
  type CircuitRelayService,
  RELAY_V2_HOP_CODEC,
} from "@libp2p/circuit-relay-v2";
import type { Stream, StreamHandler } from "@libp2p/interface";

type Registrar = CircuitRelayServerComponents["registrar"];

/**
 * What the relays of this process have done so far (for tests and diagnostics).
 */
export const relayCopies = {
  /** Hop streams handled (reservations and connections). */
  hopStreams: 0,
  /** Unread readers removed from hop streams (one per relayed connection). */
  dropped: 0,
};

/**
 * `circuitRelayServer(init)` with the hop handler wrapped by {@linkcode dropUnreadCopies}.
 *
 * @param init The relay server's settings.
 * @returns The service factory for `createLibp2p({ services })`.
 */
export function relayServer(
  init?: CircuitRelayServerInit,
): (components: CircuitRelayServerComponents) => CircuitRelayService {
  const make = circuitRelayServer(init);
  return (components) => {
    const registrar = watchedRegistrar(components.registrar);
    return make(
      new Proxy(components, {
        get: (target, prop) => prop === "registrar" ? registrar : Reflect.get(target, prop),
      }),
    );
  };
}

/** `registrar`, whose `handle()` wraps the hop protocol's handler. */
function watchedRegistrar(registrar: Registrar): Registrar {
  const handle: Registrar["handle"] = (protocol: string, handler: StreamHandler, options) =>
    registrar.handle(
      protocol,
      protocol === RELAY_V2_HOP_CODEC
        ? async (stream: Stream, connection) => {
          await dropUnreadCopies(stream, () => handler(stream, connection));
        }
        : handler,
      options,
    );
  return new Proxy(registrar, {
    get: (target, prop) => {
      if (prop === "handle") return handle;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The two methods watched, as plain functions of any listener. */
interface Listening {
  addEventListener(type: string, listener: unknown, options?: unknown): void;
  removeEventListener(type: string, listener: unknown, options?: unknown): void;
}

/**
 * Run `handle` while watching the "message" listeners added to `stream`; afterwards remove
 * every listener still registered whose source text repeats an earlier one's (a second
 * reader of the same kind, see the module's documentation).
 *
 * @param stream The stream `handle` works on.
 * @param handle What the registrar would have run.
 * @returns How many listeners were removed.
 */
export async function dropUnreadCopies(
  stream: Stream,
  handle: () => void | Promise<void>,
): Promise<number> {
  relayCopies.hopStreams++;
  const listening = new Set<unknown>();
  const target = stream as unknown as Listening;
  const own = {
    add: Object.getOwnPropertyDescriptor(stream, "addEventListener"),
    remove: Object.getOwnPropertyDescriptor(stream, "removeEventListener"),
  };
  const add = target.addEventListener;
  const remove = target.removeEventListener;
  target.addEventListener = function (type, listener, options) {
    if (type === "message" && listener != null) listening.add(listener);
    return add.call(this, type, listener, options);
  };
  target.removeEventListener = function (type, listener, options) {
    if (type === "message") listening.delete(listener);
    return remove.call(this, type, listener, options);
  };
  try {
    await handle();
  } finally {
    restore(stream, "addEventListener", own.add);
    restore(stream, "removeEventListener", own.remove);
  }
  const seen = new Set<string>();
  let dropped = 0;
  for (const listener of listening) {
    const text = typeof listener === "function" ? Function.prototype.toString.call(listener) : "";
    if (text === "") continue;
    if (!seen.has(text)) {
      seen.add(text);
      continue;
    }
    target.removeEventListener("message", listener);
    dropped++;
  }
  relayCopies.dropped += dropped;
  return dropped;
}

/** Put back what `stream` had as its own `name` (usually nothing: the prototype's method). */
function restore(stream: Stream, name: string, descriptor: PropertyDescriptor | undefined): void {
  if (descriptor) Object.defineProperty(stream, name, descriptor);
  else delete (stream as unknown as Record<string, unknown>)[name];
}
