/**
 * Relay reservations of a participant: how many to hold, and noticing when they change.
 *
 * A participant is reachable only through the relay addresses in its presence record (the
 * `/p2p-circuit` addresses its relay reservations give it; WebRTC signaling runs over them).
 * Issue 12 measured what one stale record costs: three bootstrap nodes, the two that members
 * had reserved on killed, newcomers met the members only 6.5–9.2 s after joining, because
 * the records still named the dead relays until the next periodic re-announcement (every
 * `ttlMs / 3`, 20 s) and the first dials failed. So:
 *
 * - a participant holds reservations on up to {@linkcode DEFAULT_RELAY_RESERVATIONS} relays
 *   (one death costs nothing: the other still carries signaling), and libp2p's reservation
 *   store reserves again elsewhere when one is lost (connection close → `relay:removed` →
 *   discovery among connected relays);
 * - {@linkcode RelayAddressWatcher} notices at once when the set of relay addresses changes
 *   (lost or new reservation) and calls back, so the rendezvous re-announces the record
 *   without the dead relay's addresses.
 *
 * @module
 */
import type { Libp2p } from "@libp2p/interface";

/**
 * Relay reservations a participant holds at once, at most (fewer when fewer bootstrap
 * nodes are configured: every reservation not made keeps libp2p's relay discovery busy).
 */
export const DEFAULT_RELAY_RESERVATIONS = 2;

/**
 * How many relay reservations to ask for, given the bootstrap nodes configured.
 *
 * libp2p keeps looking for a relay while it holds fewer reservations than asked for (a DHT
 * random walk), so asking for more than there are relays would keep it looking forever.
 *
 * @param bootstrapNodes Distinct bootstrap nodes configured.
 * @param wanted Reservations wanted.
 * @returns Between 1 and `wanted`.
 */
export function relayReservationCount(
  bootstrapNodes: number,
  wanted: number = DEFAULT_RELAY_RESERVATIONS,
): number {
  return Math.max(1, Math.min(wanted, bootstrapNodes));
}

/**
 * The `/p2p-circuit` addresses among `addresses` (ours, as `getMultiaddrs()` lists them),
 * sorted, as one string to compare.
 *
 * @param addresses Multiaddrs as strings.
 * @returns A key that changes exactly when the relay addresses change.
 */
export function relayAddressKey(addresses: readonly string[]): string {
  return addresses.filter((a) => a.includes("/p2p-circuit")).sort().join(" ");
}

/**
 * The relay peer ids named by relay-circuit addresses (`…/p2p/<relay>/p2p-circuit…`).
 *
 * @param addresses Multiaddrs as strings.
 * @returns Distinct relay peer ids, in order of appearance.
 */
export function relaysOf(addresses: readonly string[]): string[] {
  const out = new Set<string>();
  for (const a of addresses) {
    const relay = relayOf(a);
    if (relay) out.add(relay);
  }
  return [...out];
}

/**
 * The relay peer id named by one relay-circuit address.
 *
 * @param address A multiaddr as a string.
 * @returns The relay's peer id, or undefined for an address off any relay.
 */
export function relayOf(address: string): string | undefined {
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(address)?.[1];
}

/** Init of {@linkcode RelayAddressWatcher}. */
export interface RelayAddressWatcherInit {
  /** The participant's node. */
  libp2p: Pick<Libp2p, "getMultiaddrs" | "addEventListener" | "removeEventListener">;
  /** Called (not concurrently) when the relay addresses differ from the last ones seen. */
  onChange: (addresses: string[]) => Promise<void> | void;
  /**
   * Wait this long after an event before comparing (coalesces the burst of events of one
   * reservation change).
   * @default {50}
   */
  settleMs?: number;
}

/**
 * Calls back when our relay addresses change: a reservation lost (its relay's connection
 * closed) or made. libp2p's `self:peer:update` is debounced by a second; the transport
 * manager's `transport:listening` (fired by the relay listener on both) and
 * `connection:close` come at once.
 */
export class RelayAddressWatcher {
  #init: RelayAddressWatcherInit;
  #last: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #busy: Promise<void> | undefined;
  #again = false;
  /** How many times `onChange` ran. */
  changes = 0;

  /** @param init The node and the callback. */
  constructor(init: RelayAddressWatcherInit) {
    this.#init = init;
    this.#last = relayAddressKey(init.libp2p.getMultiaddrs().map(String));
  }

  /** Remember `addresses` as the current ones (e.g. what was just announced). */
  seen(addresses: readonly string[]): void {
    this.#last = relayAddressKey(addresses);
  }

  /** Start listening to the node's events. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { libp2p } = this.#init;
    libp2p.addEventListener("transport:listening", this.#onEvent);
    libp2p.addEventListener("transport:close", this.#onEvent);
    libp2p.addEventListener("connection:close", this.#onEvent);
    libp2p.addEventListener("self:peer:update", this.#onEvent);
  }

  /** Stop listening and drop the pending check. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { libp2p } = this.#init;
    libp2p.removeEventListener("transport:listening", this.#onEvent);
    libp2p.removeEventListener("transport:close", this.#onEvent);
    libp2p.removeEventListener("connection:close", this.#onEvent);
    libp2p.removeEventListener("self:peer:update", this.#onEvent);
  }

  #onEvent = (): void => {
    if (!this.#running || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.check();
    }, this.#init.settleMs ?? 50);
  };

  /**
   * Compare now and call back if the relay addresses changed (runs after a call in flight).
   *
   * @returns Resolves when the callback (if any) finished.
   */
  check(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return this.#busy;
    }
    this.#busy = (async () => {
      do {
        this.#again = false;
        if (!this.#running) return;
        const addresses = this.#init.libp2p.getMultiaddrs().map(String);
        const key = relayAddressKey(addresses);
        if (key === this.#last) continue;
        this.#last = key;
        this.changes++;
        try {
          await this.#init.onChange(addresses);
        } catch {
          // the callback logs its own failures; the next change tries again
        }
      } while (this.#again);
    })().finally(() => this.#busy = undefined);
    return this.#busy;
  }
}
