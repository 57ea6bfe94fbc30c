/**
 * `yamux()` with muxers whose `abort()` cannot throw.
 *
 * Why: in `@libp2p/utils` 7.4.1 the muxer's "message" listener on the connection under it
 * (`muxerMaConnOnMessage` in `abstract-stream-muxer.ts`) catches an error from `onData()`
 * and calls `this.abort(err)`; `@libp2p/yamux` 8.0.3's `abort()` then sends a GoAway frame,
 * and when that connection can no longer be written (it was just closed) the send throws
 * `StreamStateError: Cannot write to a stream that is closed` out of the catch block. Thrown
 * from an event listener, it is an uncaught exception: the whole process ends. Seen in the
 * NAT lab's LAN scenario (`tests/discovery/local_lan_test.ts`), where a member process died
 * this way about once in twenty runs under load and its peer then failed every dial with
 * `NO_RESERVATION`. No upstream issue was found. The wrapper lets `abort()` finish (the
 * streams and the muxer are closed before the GoAway is attempted) and drops the error: a
 * connection that cannot be written has nobody to tell.
 *
 * @module
 */
import { yamux } from "@libp2p/yamux";

type YamuxFactory = ReturnType<ReturnType<typeof yamux>>;

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
