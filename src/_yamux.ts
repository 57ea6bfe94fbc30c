/**
 * `yamux()` with muxers whose `abort()` cannot throw and whose streams send window updates
 * in batches.
 *
 * Why: in `@libp2p/utils` 7.4.1 the muxer's "message" listener on the connection under it
 * (`muxerMaConnOnMessage` in `abstract-stream-muxer.ts`) catches an error from `onData()`
 * and calls `this.abort(err)`; `@libp2p/yamux` 8.0.3's `abort()` then sends a GoAway frame,
 * and when that connection can no longer be written (it was just closed) the send throws
 * `StreamStateError: Cannot write to a stream that is closed` out of the catch block. Thrown
 * from an event listener, it is an uncaught exception: the whole process ends. Seen in the
 * NAT lab's LAN scenario (`tests/discovery/local_lan_test.ts`), where a member process died
 * this way about once in twenty runs under load and its peer then failed every dial with
 * `NO_RESERVATION`. No upstream issue was found (UPSTREAM.md #4). The wrapper lets `abort()` finish (the
 * streams and the muxer are closed before the GoAway is attempted) and drops the error: a
 * connection that cannot be written has nobody to tell.
 *
 * Window updates: `@libp2p/yamux` 8.0.3's stream (`sendWindowUpdate()` in `stream.ts`) sends
 * one for every data frame it receives, so every small message on a stream made a second
 * frame go back (its own Noise frame and packet): a relayed connection that echoed 100 bytes
 * spent 8.4 % of its CPU samples in `sendWindowUpdate()`. Streams here send one once half of
 * the receive window has been consumed, as go-yamux and the spec's reference implementation
 * (hashicorp/yamux) do; the first update of a stream (which carries its SYN or ACK flag) and
 * the one after a pause go out as before. Per relayed connection (dial, a stream, 100 bytes
 * echoed, close; `bench/probes/relay_connect_cpu.ts`) that took the loopback packets from 153
 * to 74 and the CPU time from 20.8–29.2 to 19.4–23.7 ms (4 interleaved pairs of 300; paired
 * median 0.83); 8 MiB echoed through a relay took 209–412 ms instead of 405–610. No upstream
 * issue was found (UPSTREAM.md #5).
 *
 * @module
 */
import { yamux } from "@libp2p/yamux";

type YamuxFactory = ReturnType<ReturnType<typeof yamux>>;

/** `@libp2p/yamux`'s stream states (`StreamState` in `stream.ts`). */
const ESTABLISHED = 3;
const SYN_SENT = 1;

/** What the batching reaches of a yamux stream. */
interface WindowedStream {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}

/**
 * Let `stream` send a window update only once half of its receive window is consumed
 * (while established; in every other state, as before).
 */
export function batchWindowUpdates(stream: WindowedStream): void {
  const update = stream.sendWindowUpdate.bind(stream);
  stream.sendWindowUpdate = () => {
    const quiet = stream.state === ESTABLISHED || stream.state === SYN_SENT;
    if (quiet && stream.recvWindow - stream.recvWindowCapacity < stream.recvWindow / 2) return;
    update();
  };
}

/** What the wrapper reaches of a yamux muxer: where it makes its streams. */
interface StreamMaking {
  _newStream?: (...args: unknown[]) => WindowedStream;
}

/**
 * A stream muxer factory like `yamux()`, whose muxers' `abort()` never throws.
 *
 * @returns The factory for `createLibp2p({ streamMuxers })`.
 */
export function safeYamux(): ReturnType<typeof yamux> {
  const make = yamux();
  return () => {
    const factory: YamuxFactory = make();
    const create = factory.createStreamMuxer.bind(factory);
    factory.createStreamMuxer = (maConn) => {
      const muxer = create(maConn);
      const making = muxer as unknown as StreamMaking;
      const newStream = making._newStream?.bind(muxer);
      if (newStream) {
        making._newStream = (...args) => {
          const stream = newStream(...args);
          if (typeof stream.sendWindowUpdate === "function") batchWindowUpdates(stream);
          return stream;
        };
      }
      const abort = muxer.abort.bind(muxer);
      muxer.abort = (err: Error) => {
        try {
          abort(err);
        } catch {
          // The GoAway could not be written: the connection is closed already.
        }
      };
      return muxer;
    };
    return factory;
  };
}
