/**
 * Runs inside a Chromium page of the browser suite: loads meshmeet's browser bundle (the
 * same `/meshmeet.js` the example page uses) and exposes a contract {@linkcode PeerHost} as
 * `globalThis.__contract`, which the suite drives with `page.evaluate()`. Bundled by
 * `run.ts` with esbuild; the bundle itself is loaded at run time, not bundled in.
 *
 * @module
 */
import {
  createLocalRuntime,
  type HostCommand,
  type MeshmeetApi,
  PeerHost,
} from "../contract/local_runtime.ts";

const bundleUrl = "/meshmeet.js";
const api = await import(bundleUrl) as MeshmeetApi;
let host: PeerHost | undefined;

(globalThis as Record<string, unknown>).__contract = {
  init(bootstrap: string[]): void {
    host = new PeerHost(createLocalRuntime("chromium", api, {
      bootstrap,
      rtcConfiguration: { iceServers: [] },
    }));
  },
  call(command: HostCommand): Promise<unknown> {
    if (!host) throw new Error("call init(bootstrap) first");
    return host.call(command);
  },
};
