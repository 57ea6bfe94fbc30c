/**
 * How the Chromium suite and the browser benchmark launch Debian's Chromium.
 *
 * @module
 */

/** Debian's Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Chromium flags measured in LAB.md (Browsers). */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--allow-loopback-in-peer-connection",
  "--use-fake-ui-for-media-stream",
];
