/**
 * Helpers for scenario tests: a loopback bootstrap node, participants that keep WebRTC on
 * 127.0.0.1, and waiting for events with a deadline.
 */
import {
  type BootstrapNode,
  joinMeeting,
  type JoinMeetingOptions,
  type Meeting,
  type MeetingEventMap,
  startBootstrapNode,
} from "../../mod.ts";

/** WebRTC settings that keep ICE on loopback (tests talk to nothing else). */
export const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };

/** Start a bootstrap node on loopback (WebSockets and TCP). */
export function startLoopbackBootstrap(
  options: Parameters<typeof startBootstrapNode>[0] = {},
): Promise<BootstrapNode> {
  return startBootstrapNode({
    listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
    ...options,
  });
}

/** Join on loopback. */
export function joinLoopback(
  code: string,
  boot: BootstrapNode,
  options: JoinMeetingOptions = {},
): Promise<Meeting> {
  return joinMeeting(code, {
    bootstrap: boot.addresses,
    rtcConfiguration: LOOPBACK_RTC,
    // Tests check behaviour, not speed, on a shared 2-core machine: a generous direct budget
    // keeps a slow direct dial from falling through to the relay rung.
    dialTimeoutMs: 15_000,
    ...options,
  });
}

/** Join one meeting with several named participants at once, in the order of `names`. */
export function joinAll(
  code: string,
  boot: BootstrapNode,
  names: string[],
  options: JoinMeetingOptions = {},
): Promise<Meeting[]> {
  return Promise.all(names.map((name) => joinLoopback(code, boot, { ...options, name })));
}

/** Resolve when `predicate` holds (checked on every event of `meeting` and every 50 ms). */
export function waitUntil(
  predicate: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) {
        clearInterval(interval);
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    };
    const interval = setInterval(check, 25);
    const timer = setTimeout(() => {
      clearInterval(interval);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    check();
  });
}

/** Record every event of the given types from a meeting. */
export function recordEvents<K extends keyof MeetingEventMap>(
  meeting: Meeting,
  types: K[],
): Array<{ type: K; detail: MeetingEventMap[K]["detail"]; at: number }> {
  const log: Array<{ type: K; detail: MeetingEventMap[K]["detail"]; at: number }> = [];
  for (const type of types) {
    meeting.addEventListener(type, (e) => log.push({ type, detail: e.detail, at: Date.now() }));
  }
  return log;
}

/** Leave all meetings (ignoring errors), then stop the bootstrap nodes. */
export async function cleanup(meetings: Meeting[], boots: BootstrapNode[] = []): Promise<void> {
  await Promise.allSettled(meetings.map((m) => m.leave()));
  await Promise.allSettled(boots.map((b) => b.stop()));
}

/** A peer id from a participant list, by name. */
export function idOf(meeting: Meeting, name: string): string | undefined {
  return meeting.participants.find((p) => p.name === name)?.peerId;
}

/**
 * This host's own addresses (loopback included). libwebrtc has no way to bind ICE to one
 * address: with `bindAddress` only that address is signaled, but connectivity checks may
 * still leave from another local interface and show up as peer-reflexive. Either way the
 * packets never leave this machine.
 */
export function ownAddresses(): Set<string> {
  return new Set(["127.0.0.1", "::1", ...Deno.networkInterfaces().map((i) => i.address)]);
}
