/**
 * coturn in the backbone namespace: STUN (with the RFC 5780 alternate address) and,
 * unless `turn: false`, TURN with long-term credentials; the ICE servers that point at it.
 *
 * @module
 */
import { INET6_NET, INET_NET, type LabPlan } from "./plan.ts";
import { sleep, type Tracked, which } from "./processes.ts";
import {
  type IceServer,
  type LabHost,
  type NatLab,
  NatLabError,
  type SpawnOptions,
  type TurnCredentials,
} from "./types.ts";

/** coturn's STUN/TURN port. */
export const STUN_PORT = 3478;
/** coturn's RFC 5780 alternate port. */
export const STUN_ALT_PORT = 3479;

/**
 * coturn's endpoints, as {@linkcode NatLab.stun}, {@linkcode NatLab.turn} and
 * {@linkcode NatLab.iceServers}.
 */
export function coturnEndpoints(
  backbone: LabHost,
  turn: TurnCredentials | false,
): Pick<NatLab, "stun" | "turn" | "iceServers"> {
  const b = backbone;
  const stun = {
    host: b.ip,
    port: STUN_PORT,
    host6: b.ip6,
    altHost: `${INET_NET}.2`,
    altPort: STUN_ALT_PORT,
  };
  const stunUrls = [`stun:${b.ip}:${STUN_PORT}`];
  if (b.ip6) stunUrls.push(`stun:[${b.ip6}]:${STUN_PORT}`);
  const iceServers: IceServer[] = [{ urls: stunUrls }];
  if (!turn) return { stun, iceServers };
  const urls = [
    `turn:${b.ip}:${STUN_PORT}?transport=udp`,
    `turn:${b.ip}:${STUN_PORT}?transport=tcp`,
  ];
  if (b.ip6) urls.push(`turn:[${b.ip6}]:${STUN_PORT}?transport=udp`);
  const turnServer = { urls, username: turn.user, credential: turn.password };
  iceServers.push(turnServer);
  return { stun, turn: turnServer, iceServers };
}

/**
 * Starts coturn through `spawn` (so the lab tracks it from the start and kills it on
 * `close()`, even when it never gets ready) and waits until it listens.
 * @throws {NatLabError} When turnserver exits; the message holds its log.
 */
export async function startCoturn(
  plan: LabPlan,
  dir: string,
  spawn: (ns: string, cmd: string[], options: SpawnOptions) => Tracked,
  signal: AbortSignal,
): Promise<Tracked> {
  const { backbone, turn, ipv6, verbose } = plan;
  const args = [
    "-n",
    `--listening-ip=${backbone.ip}`,
    `--listening-ip=${INET_NET}.2`,
    `--relay-ip=${backbone.ip}`,
    `--listening-port=${STUN_PORT}`,
    `--alt-listening-port=${STUN_ALT_PORT}`,
    "--min-port=49152",
    "--max-port=65535",
    "--fingerprint",
    "--no-tls",
    "--no-dtls",
    "--no-cli",
    "--no-multicast-peers",
    `--userdb=${dir}/turndb`,
    `--pidfile=${dir}/turnserver.pid`,
    "--log-file=stdout",
    "--simple-log",
  ];
  if (ipv6) {
    args.push(
      `--listening-ip=${backbone.ip6}`,
      `--listening-ip=${INET6_NET}:2`,
      `--relay-ip=${backbone.ip6}`,
    );
  }
  if (verbose) args.push("-v");
  if (turn) {
    args.push(
      "--lt-cred-mech",
      `--user=${turn.user}:${turn.password}`,
      `--realm=${turn.realm ?? "meshmeet.lab"}`,
    );
  } else {
    args.push("--stun-only");
  }
  // `sh -c exec` keeps the pid (turnserver replaces sh) and sends its output to a file
  // nobody has to drain.
  const turnserver = spawn(backbone.ns, [
    "sh",
    "-c",
    'exec "$0" "$@" >>"$MESHMEET_NATLAB_LOG" 2>&1',
    which("turnserver") ?? "turnserver",
    ...args,
  ], {
    env: { MESHMEET_NATLAB_LOG: `${dir}/turnserver.log` },
    stdout: "null",
    stderr: "null",
  });
  const pid = turnserver.child.pid;
  let exited = false;
  turnserver.status.then(() => exited = true, () => exited = true);
  // Ready when both STUN addresses are bound (read from the process's own netns view).
  const want = [procAddress(backbone.ip, STUN_PORT), procAddress(`${INET_NET}.2`, STUN_PORT)];
  while (true) {
    if (exited) {
      throw new NatLabError(
        `Cannot start coturn: turnserver exited; its log:\n${await readCoturnLog(dir)}`,
      );
    }
    if (signal.aborted) throw signal.reason;
    try {
      const udp = await Deno.readTextFile(`/proc/${pid}/net/udp`);
      if (want.every((w) => udp.includes(w))) return turnserver;
    } catch {
      // not there yet
    }
    await sleep(10);
  }
}

/** coturn's log so far ("" when there is none yet). */
export async function readCoturnLog(dir: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${dir}/turnserver.log`);
  } catch {
    return "";
  }
}

/** An address as it appears in /proc/net/udp: little-endian hex IPv4, then the port. */
function procAddress(ip: string, port: number): string {
  const hex = ip.split(".").reverse().map((o) => Number(o).toString(16).padStart(2, "0")).join("")
    .toUpperCase();
  return `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}
