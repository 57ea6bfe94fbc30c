import { assertEquals, assertThrows } from "@std/assert";
import { yamux } from "@libp2p/yamux";
import { safeYamux } from "../src/_yamux.ts";

// A silent libp2p logger and a connection that can no longer be written.
// deno-lint-ignore no-explicit-any
const log: any = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false });
log.newScope = () => log;
function closedConnection() {
  const aborted: Error[] = [];
  return {
    aborted,
    maConn: {
      log,
      status: "open",
      addEventListener() {},
      removeEventListener() {},
      send() {
        throw new Error("Cannot write to a stream that is closed");
      },
      abort(err: Error) {
        aborted.push(err);
      },
    },
  };
}
// deno-lint-ignore no-explicit-any
type AnyFactory = () => { createStreamMuxer(maConn: any): any };

Deno.test("@libp2p/yamux's abort() throws when its connection cannot be written (the crash safeYamux() prevents)", () => {
  const { maConn } = closedConnection();
  const muxer = (yamux() as unknown as AnyFactory)().createStreamMuxer(maConn);
  assertThrows(() => muxer.abort(new Error("bad frame")), Error, "closed");
});

Deno.test("safeYamux(): abort() on a connection that cannot be written closes the muxer and does not throw", () => {
  const { maConn } = closedConnection();
  const muxer = (safeYamux() as unknown as AnyFactory)().createStreamMuxer(maConn);
  muxer.abort(new Error("bad frame"));
  assertEquals(muxer.status, "closed");
});
