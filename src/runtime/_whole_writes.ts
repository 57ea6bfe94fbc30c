/**
 * Transports whose connections hand each send to the socket as one buffer.
 *
 * Why: in `@libp2p/tcp` 11.0.28 and `@libp2p/websockets` 10.1.21 a connection's
 * `sendData()` (`socket-to-conn.ts`, `websocket-to-conn.ts`) writes once per chunk of the
 * list it is handed, and what it is handed is chunked: Noise (`@libp2p/noise` 17,
 * `EncryptedMessageStream.encrypt()`) makes every encrypted frame a 2-byte length and the
 * ciphertext. So every frame went out as two TCP segments (Nagle is off) or two WebSocket
 * messages, the first of them 2 bytes long. The wrapper joins the chunks of one send
 * first: one write, one segment or message. On a relayed connection (dial, a stream, 100
 * bytes echoed, close; relay and both ends in one process over TCP,
 * `bench/probes/relay_connect_cpu.ts` in a network namespace) the loopback carried 284
 * packets before and 153 after; the CPU time did not change measurably. No upstream issue
 * was found (UPSTREAM.md #7); on Node, `socket.cork()` / `uncork()` around the loop would do it for TCP.
 *
 * @module
 */
import { Uint8ArrayList } from "uint8arraylist";
import type { Transport, Upgrader } from "@libp2p/interface";

type MaConnection = Parameters<Upgrader["upgradeOutbound"]>[0];

/** What the wrapper needs of the connection (a protected method in its types). */
interface Sending {
  sendData(data: Uint8ArrayList): { sentBytes: number; canSendMore: boolean };
}

/** Make the connection's `sendData()` hand the socket one buffer per send. */
function writeWhole(maConn: MaConnection): void {
  const conn = maConn as unknown as Sending;
  if (typeof conn.sendData !== "function") return;
  const sendData = conn.sendData.bind(conn);
  // subarray() copies only when there are several chunks.
  conn.sendData = (data) => sendData(new Uint8ArrayList(data.subarray()));
}

/** An upgrader that first applies {@linkcode writeWhole} to every connection. */
function upgradingWhole(upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "upgradeOutbound" || property === "upgradeInbound") {
        return (maConn: MaConnection, options: Parameters<Upgrader["upgradeOutbound"]>[1]) => {
          writeWhole(maConn);
          return value.call(target, maConn, options);
        };
      }
      return value.bind(target);
    },
  });
}

/**
 * A transport factory like `make`, whose connections hand each send to the socket whole.
 *
 * @param make A transport factory whose `dial()` and `createListener()` take the upgrader
 *   in their options (`tcp()`, `webSockets()`).
 * @returns The factory for `createLibp2p({ transports })`.
 */
export function wholeWrites<C>(make: (components: C) => Transport): (components: C) => Transport {
  return (components) => {
    const transport = make(components);
    const dial = transport.dial.bind(transport);
    transport.dial = (ma, options) =>
      dial(ma, { ...options, upgrader: upgradingWhole(options.upgrader) });
    const createListener = transport.createListener.bind(transport);
    transport.createListener = (options) =>
      createListener({ ...options, upgrader: upgradingWhole(options.upgrader) });
    return transport;
  };
}
