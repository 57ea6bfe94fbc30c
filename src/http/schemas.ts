/**
 * Request and response schemas of the control API (zod, with OpenAPI metadata). They
 * validate input and generate the OpenAPI document.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

/** `{ error: { code, message } }`: every 4xx/5xx answer. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "meeting_not_found" }),
    message: z.string().openapi({
      example: "No meeting with topic id 3f1c…; GET /meetings lists this node's meetings",
    }),
  }),
}).openapi("Error");

/** A public topic id: 64 lower-case hex characters. */
export const TopicIdSchema = z.string().regex(/^[0-9a-f]{64}$/, {
  message: "must be a topic id: 64 lower-case hex characters (never an invitation code)",
}).openapi({
  param: { name: "topicId", in: "path" },
  example: "f269c8669fc1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b",
  description: "Public topic id of a meeting (what `meeting.topicId` shows).",
});

/** A libp2p peer id in a path. */
export const PeerIdParamSchema = z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, {
  message: "must be a base58 peer id",
}).openapi({
  param: { name: "peerId", in: "path" },
  example: "12D3KooWJvr7y21GEWJCpmDet3dcLGFh7R7zTpi1pw75TJqN3oSp",
});

const CandidateSchema = z.object({
  type: z.string().openapi({ example: "host" }),
  address: z.string().openapi({ example: "127.0.0.1" }),
  port: z.number().int(),
}).openapi("Candidate");

const IceStateSchema = z.object({
  connectionState: z.string().openapi({ example: "connected" }),
  iceConnectionState: z.string().openapi({ example: "connected" }),
  iceGatheringState: z.string().openapi({ example: "complete" }),
  signalingState: z.string().openapi({ example: "stable" }),
}).openapi("IceState");

/** One participant as seen from this node. */
export const ParticipantSchema = z.object({
  peerId: z.string(),
  name: z.string(),
  joinedAt: z.number().openapi({ description: "Its join time (its clock, ms since the epoch)" }),
  state: z.string().openapi({ example: "connected", description: "Link state" }),
  path: z.enum(["direct", "turn", "relay"]).nullable(),
  selectedCandidatePair: z.object({ local: CandidateSchema, remote: CandidateSchema })
    .nullable(),
  ice: IceStateSchema.nullable().openapi({
    description: "States of the WebRTC peer connection, when there is one",
  }),
  direction: z.enum(["inbound", "outbound"]),
  rtt: z.number().nullable().openapi({ description: "Last heartbeat round trip, ms" }),
  lastSeen: z.number().openapi({ description: "When we last heard from it (ms since the epoch)" }),
  discoveredAt: z.number(),
  connectedAt: z.number(),
  unacknowledged: z.number().int(),
}).openapi("Participant");

const DhtSchema = z.object({
  mode: z.enum(["client", "server"]),
  routingTableSize: z.number().int(),
}).openapi("DhtState");

const StunSchema = z.object({
  status: z.string().openapi({ example: "ok", description: "ok, unreachable or none" }),
  address: z.string().optional().openapi({ example: "203.0.113.7:53124" }),
  server: z.string().optional(),
  error: z.string().optional(),
}).openapi("StunResult");

/** Our own side of a meeting. */
export const SelfSchema = z.object({
  peerId: z.string(),
  name: z.string(),
  joinedAt: z.number(),
  addresses: z.array(z.string()),
  publicAddress: z.string().nullable(),
  stun: StunSchema.nullable(),
  iceServers: z.array(z.string()).openapi({
    description: "URLs of the ICE servers in use (credentials are never shown)",
  }),
}).openapi("Self");

/** A meeting in lists. */
export const MeetingSummarySchema = z.object({
  topicId: z.string(),
  self: SelfSchema,
  participantCount: z.number().int(),
  dht: DhtSchema,
  connections: z.number().int(),
}).openapi("MeetingSummary");

/** Counters of a meeting. */
export const MeetingStatsSchema = z.object({
  handshakeFailures: z.number(),
  dialAttempts: z.number(),
  dialFailures: z.number(),
  reconnects: z.number(),
  messagesSent: z.number(),
  messagesAcked: z.number(),
  messagesReceived: z.number(),
  messagesDropped: z.number(),
  joinTimings: z.record(z.string(), z.number()),
  rendezvous: z.object({
    lookups: z.number(),
    recordsAccepted: z.number(),
    recordsRejected: z.number(),
    announcements: z.number(),
    lastLookupMs: z.number(),
  }),
}).openapi("MeetingStats");

/** A meeting with its participants. */
export const MeetingSchema = MeetingSummarySchema.extend({
  participants: z.array(ParticipantSchema),
  stats: MeetingStatsSchema,
}).openapi("Meeting");

/** `GET /status`. */
export const StatusSchema = z.object({
  version: z.string(),
  runtime: z.string(),
  startedAt: z.number().openapi({
    description: "When the control API started (ms since the epoch)",
  }),
  uptimeSeconds: z.number(),
  node: z.object({
    role: z.literal("bootstrap"),
    peerId: z.string(),
    addresses: z.array(z.string()),
    publicAddresses: z.array(z.string()).openapi({
      description: "The addresses that are neither loopback, private nor link-local",
    }),
    dht: DhtSchema,
    connections: z.number().int(),
    startedAt: z.number(),
  }).nullable().openapi({ description: "The bootstrap/relay node this process runs, if any" }),
  meetings: z.array(MeetingSummarySchema),
  canJoin: z.boolean().openapi({ description: "Whether POST /meetings is available" }),
  events: z.boolean().openapi({ description: "Whether GET /events is enabled" }),
}).openapi("Status");

/** `POST /meetings`. */
export const JoinBodySchema = z.object({
  code: z.string().min(1).max(256).openapi({
    description: "The invitation code. It is used locally to derive the meeting's keys and " +
      "is never stored, logged or sent anywhere.",
    example: "maple-harbor-sunset-meadow-pilot-4821",
  }),
  name: z.string().max(64).optional().openapi({ example: "Ada" }),
}).strict().openapi("JoinRequest");

/** `POST /meetings/{topicId}/messages`. */
export const SendBodySchema = z.object({
  to: z.string().min(1).max(128).optional().openapi({
    description: "Peer id or display name of one participant; omit to send to everyone",
  }),
  text: z.string().optional().openapi({ example: "hello" }),
  json: z.unknown().optional().openapi({ description: "Any JSON value to send as is" }),
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: "must be base64" }).optional()
    .openapi({ description: "Bytes, base64-encoded" }),
  channel: z.number().int().min(0).max(255).optional().openapi({ example: 0 }),
}).strict().refine(
  (b) => [b.text, b.json, b.base64].filter((v) => v !== undefined).length === 1,
  { message: "give exactly one of text, json or base64" },
).openapi("SendRequest");

/** Result of a send. */
export const SendResultSchema = z.object({
  delivered: z.array(z.string()).openapi({ description: "Peer ids that acknowledged" }),
  failed: z.array(z.object({ peerId: z.string(), error: z.string() })),
}).openapi("SendResult");

/** Result of a leave. */
export const LeaveResultSchema = z.object({
  topicId: z.string(),
  left: z.literal(true),
}).openapi("LeaveResult");

/** `GET /topics/{topicId}`. */
export const TopicLookupSchema = z.object({
  topicId: z.string(),
  cid: z.string(),
  via: z.string().openapi({ description: "Peer id of the node that asked the DHT" }),
  durationMs: z.number(),
  warning: z.string().optional(),
  providers: z.array(z.object({
    peerId: z.string(),
    addresses: z.array(z.string()),
    record: z.object({
      present: z.boolean(),
      seq: z.number().optional(),
      issuedAt: z.number().optional(),
      expiresAt: z.number().optional(),
      expired: z.boolean().optional(),
      bytes: z.number().optional(),
      valid: z.boolean().optional(),
      error: z.string().optional(),
    }),
  })),
}).openapi("TopicLookup");

/** Query of `GET /topics/{topicId}`. */
export const TopicQuerySchema = z.object({
  timeoutMs: z.coerce.number().int().min(100).max(60_000).optional().openapi({
    param: { name: "timeoutMs", in: "query" },
    example: 10000,
  }),
});

/** Query of `GET /events`. */
export const EventsQuerySchema = z.object({
  topic: z.string().regex(/^[0-9a-f]{64}$/, { message: "must be a topic id" }).optional()
    .openapi({ param: { name: "topic", in: "query" }, description: "Only this meeting" }),
  types: z.string().max(512).optional().openapi({
    param: { name: "types", in: "query" },
    description: "Comma-separated event types, e.g. peer:join,message (default all)",
  }),
});
