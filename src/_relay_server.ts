/**
 * `circuitRelayServer()` whose relayed connections do not keep a copy of what the dialing
 * side sends, and whose reservations end when their peer disconnects.
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
 * Reservations: the library's relay keeps a reservation for its whole TTL (2 h) after its
 * peer has disconnected (`server/reservation-store.ts`: entries leave only when their signal
 * times out; `removeReservation()` is called only when the reservation's answer cannot be
 * written). Every join of a meeting is a new peer id, so a bootstrap node collected one stale
 * reservation per member that left or crashed (the churn soak: 17 held with 8 members live
 * after 3 minutes), and at `maxReservations` (1,024) it refuses new members: with a few
 * hundred joins an hour, a busy bootstrap node would refuse newcomers within hours. The
 * circuit relay v2 spec ties a reservation to the peer's connection to the relay (go-libp2p's
 * relay drops it when the peer disconnects); here the peer's reservation is removed (and its
 * timer cleared) on libp2p's `peer:disconnect`, when the last connection to the peer closes.
 * No upstream issue was found (UPSTREAM.md #18).
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
import type { PeerId, Stream, StreamHandler } from "@libp2p/interface";

type Registrar = CircuitRelayServerComponents["registrar"];

/**
 * What the relays of this process have done so far (for tests and diagnostics).
 */
export const relayServerStats = {
  /** Unread readers removed from hop streams (one per relayed connection). */
  dropped: 0,
  /** Reservations removed because their peer disconnected. */
  reservationsEnded: 0,
};

/**
 * `circuitRelayServer(init)` with the hop handler wrapped by {@linkcode dropUnreadCopies}
 * and reservations that end when their peer disconnects.
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
    const service = make(
      new Proxy(components, {
        get: (target, prop) => prop === "registrar" ? registrar : Reflect.get(target, prop),
      }),
    );
    const events = (components as { events?: EventTarget }).events;
    const store = (service as unknown as { reservationStore?: ReservationStore }).reservationStore;
    if (events === undefined || typeof store?.removeReservation !== "function") return service;
    return endReservationsOnDisconnect(service, events, store);
  };
}

/** What {@linkcode endReservationsOnDisconnect} uses of the library's reservation store. */
interface ReservationStore {
  get(peer: PeerId): { signal?: { clear?: () => void } } | undefined;
  removeReservation(peer: PeerId): void;
}

/**
 * Remove a peer's reservation from `store` when libp2p reports that the peer disconnected
 * (its last connection closed), from the service's start to its stop.
 */
function endReservationsOnDisconnect(
  service: CircuitRelayService,
  events: EventTarget,
  store: ReservationStore,
): CircuitRelayService {
  const onDisconnect = (evt: Event) => {
    const peer = (evt as CustomEvent<PeerId>).detail;
    const reservation = store.get(peer);
    if (reservation === undefined) return;
    reservation.signal?.clear?.();
    store.removeReservation(peer);
    relayServerStats.reservationsEnded++;
  };
  const running = service as unknown as { start(): Promise<void>; stop(): Promise<void> };
  const start = running.start.bind(service);
  const stop = running.stop.bind(service);
  running.start = async () => {
    await start();
    events.addEventListener("peer:disconnect", onDisconnect);
  };
  running.stop = async () => {
    events.removeEventListener("peer:disconnect", onDisconnect);
    await stop();
  };
  return service;
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
  relayServerStats.dropped += dropped;
  return dropped;
}

/** Put back what `stream` had as its own `name` (usually nothing: the prototype's method). */
function restore(stream: Stream, name: string, descriptor: PropertyDescriptor | undefined): void {
  if (descriptor) Object.defineProperty(stream, name, descriptor);
  else delete (stream as unknown as Record<string, unknown>)[name];
}
