/**
 * The pieces of making a meeting link that do not depend on who dialed: the membership
 * handshake on a signaling stream, the WebRTC session's configuration for a rung, and the
 * description of the selected candidate pair. Used by the connector (`connector.ts`) on both
 * sides of a link.
 *
 * @module
 */
import { MembershipProofError } from "../errors.ts";
import type { FramedStream } from "../framed_stream.ts";
import type { Logger } from "../logger.ts";
import { handshakeAsDialer, handshakeAsListener, type MemberHello } from "../membership.ts";
import type { ConnectorHost, ConnectorOptions } from "./connector_types.ts";
import { iceServersForRung } from "./ice.ts";
import { describePath, type PathInfo } from "./inspect.ts";
import type { IceRung, WebRtcSessionInit } from "./signaling.ts";

/**
 * The membership handshake on a signaling stream. A wrong proof is reported to the host
 * and the stream closed gracefully (so our refusal reaches the other side); any other
 * failure aborts the stream.
 *
 * @param host The meeting's keys, identity and failure callback.
 * @param framed The signaling stream.
 * @param peerId The other side.
 * @param signal Ends the handshake.
 * @param role Which side we are.
 * @param onProofSent Called once our proof is on the wire (the dialer's offer may follow).
 * @returns What the other side told us.
 */
export async function membershipHandshake(
  host: Pick<ConnectorHost, "keys" | "libp2p" | "self" | "onHandshakeFailed">,
  framed: FramedStream,
  peerId: string,
  signal: AbortSignal,
  role: "dialer" | "listener",
  onProofSent?: () => void,
): Promise<MemberHello> {
  const context = {
    keys: host.keys,
    selfId: host.libp2p.peerId.toString(),
    remoteId: peerId,
    self: host.self,
    signal,
    onProofSent,
  };
  try {
    return role === "dialer"
      ? await handshakeAsDialer(framed, context)
      : await handshakeAsListener(framed, context);
  } catch (err) {
    if (err instanceof MembershipProofError) {
      host.onHandshakeFailed(peerId, err);
      await framed.close();
    } else framed.abort(err as Error);
    throw err;
  }
}

/**
 * What a WebRTC session on a rung is made with: the user's configuration, the rung's ICE
 * servers and policy, the payload limit and the attempt's signal.
 *
 * @param host The meeting's ICE servers, configuration and `RTCPeerConnection` class.
 * @param options The message size limit.
 * @param rung `direct` or `turn`.
 * @param signal The attempt's budget.
 * @returns The session's init.
 */
export function sessionInit(
  host: Pick<ConnectorHost, "iceServers" | "rtcConfiguration" | "PeerConnection">,
  options: Pick<ConnectorOptions, "maxMessageBytes">,
  rung: IceRung,
  signal: AbortSignal,
): WebRtcSessionInit {
  const { iceServers: _, ...rest } = host.rtcConfiguration;
  const servers = iceServersForRung(host.iceServers(), rung);
  // On the TURN rung the dialer offers relay candidates only: its direct candidates already
  // failed on the rung below, and with them in the session a hole-punched pair could still
  // be chosen over the relay mid-attempt. The answerer keeps STUN only: one relayed end is
  // enough (TURN permissions are per IP, so even a symmetric NAT's new port gets through).
  const policy: RTCIceTransportPolicy | undefined = rung === "turn" && servers.length > 0
    ? "relay"
    : rest.iceTransportPolicy;
  return {
    PeerConnection: host.PeerConnection,
    configuration: {
      ...rest,
      iceServers: servers,
      ...(policy ? { iceTransportPolicy: policy } : {}),
    },
    bindAddress: host.rtcConfiguration.bindAddress,
    maxPayload: options.maxMessageBytes + 64,
    signal,
  };
}

/**
 * The selected pair of a WebRTC link; it can show up in getStats() a moment after the
 * channel opened, so this asks up to 20 times, 25 ms apart.
 *
 * @param pc The link's peer connection.
 * @param log Where a getStats() failure is reported.
 * @returns The path, or undefined when getStats() never showed one.
 */
export async function describeWhenKnown(
  pc: RTCPeerConnection,
  log: Logger,
): Promise<PathInfo | undefined> {
  for (let attempt = 0; attempt < 20 && pc.connectionState !== "closed"; attempt++) {
    try {
      const info = await describePath(pc);
      if (info) return info;
    } catch (err) {
      log(`getStats failed: ${(err as Error).message}`);
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}
