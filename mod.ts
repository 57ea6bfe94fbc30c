/**
 * meshmeet: meetings whose participants share nothing but an invitation code. They find
 * each other through a Kademlia DHT (js-libp2p kad-dht), prove to each other that they
 * hold the code, and talk over direct, encrypted WebRTC connections.
 *
 * @example Join a meeting and greet everyone
 * ```ts ignore
 * import { generateInvitationCode, joinMeeting, startBootstrapNode } from "@meshmeet/core";
 *
 * await using boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
 * const code = generateInvitationCode();
 * await using ada = await joinMeeting(code, { name: "Ada", bootstrap: boot.addresses });
 * ada.addEventListener("peer:join", (e) => ada.send(e.detail.peerId, `hello ${e.detail.name}`));
 * ada.addEventListener("message", (e) => console.log(`${e.detail.name}: ${e.detail.text}`));
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/invitation_code.ts";
export * from "./src/topic.ts";
export * from "./src/logger.ts";
export * from "./src/message_codec.ts";
export * from "./src/bootstrap_node.ts";
export * from "./src/meeting.ts";
export * from "./src/join_meeting.ts";
export { DHT_PROTOCOL } from "./src/node.ts";
export {
  MAX_RECORD_SIZE,
  MAX_RECORD_TTL_MS,
  openRecord,
  type OpenRecordOptions,
  RECORD_NAMESPACE,
  recordKey,
  type SignedRecord,
} from "./src/record.ts";
export { MAX_NAME_LENGTH, type PresenceInfo } from "./src/presence.ts";
export {
  discoverPublicAddress,
  formatAddress,
  type PublicAddressInfo,
} from "./src/public_address.ts";
export type { StunAddress } from "./src/stun.ts";
export { ICE_SERVERS_PROTOCOL } from "./src/ice_servers.ts";
export type { LinkState } from "./src/peer_link.ts";
export {
  ENOUGH_ENTRY_POINTS,
  type LookupOptions,
  type RendezvousOptions,
  type RendezvousStats,
} from "./src/rendezvous.ts";
export {
  PROVIDER_TTL_MS,
  PROVIDERS_ANSWERED,
  PROVIDERS_KEPT,
  RECORDS_KEPT_PER_SCOPE,
  type RendezvousLimits,
  type ResolvedRendezvousLimits,
  resolveRendezvousLimits,
} from "./src/rendezvous/limits.ts";
export {
  ANNOUNCE_EPOCH_MS,
  announcerDecision,
  type AnnouncerInput,
  type AnnouncerReason,
  ANNOUNCERS_TARGET,
} from "./src/rendezvous/announcers.ts";
export type { RendezvousDatastoreStats } from "./src/rendezvous/rendezvous_datastore.ts";
export type { OverlayOptions } from "./src/overlay/types.ts";
export { holdWebRtc, type RuntimeRtcConfiguration } from "./src/runtime/webrtc.ts";
export {
  BOOTSTRAP_ENV,
  dnsaddrRecords,
  parseBootstrapList,
  resolveBootstrapList,
  type ResolveBootstrapOptions,
} from "./src/bootstrap_list.ts";
export type { DnsOptions } from "./src/runtime/dns.ts";
export {
  LOCAL_PROTOCOL,
  LOCAL_SERVICE_TAG,
  type LocalDiscoveryOptions,
  type LocalDiscoveryStats,
} from "./src/discovery/local.ts";
export type { NeighbourTimers } from "./src/discovery/neighbours.ts";
export {
  type DhtReader,
  findPeer,
  type FindPeerOptions,
  type FoundPeer,
  PEER_RECORD_TTL_MS,
  peerRecordKey,
} from "./src/peer_record.ts";
export { findParticipant, type FoundParticipant } from "./src/find_participant.ts";
