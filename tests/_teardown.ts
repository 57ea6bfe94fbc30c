/**
 * Preloaded into every test process by `tests/_run.ts` (`deno test --preload`).
 *
 * `deno test` dispatches no `unload` event, so the shutdown in `src/runtime/webrtc.ts`
 * (stop libdatachannel's threads before V8 disposes the isolate) never runs in a test
 * process, and a native callback that lands while the process exits crashes it with
 * SIGSEGV after every test has passed (seen about 1 in 8 runs of tests/cli/lookup_test.ts).
 * After the file's last test, stop libdatachannel here instead.
 *
 * @module
 */
import nodeDataChannel from "node-datachannel";

Deno.test.afterAll(() => {
  nodeDataChannel.cleanup();
});
