/**
 * What the control API's route modules share: the registry they serve, options, metrics,
 * the token and JSON checks, the error type they throw, and OpenAPI fragments.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "@hono/zod-openapi";
import type { BootstrapNode } from "../bootstrap_node.ts";
import type { Logger } from "../logger.ts";
import type { Meeting } from "../meeting.ts";
import { selfView } from "../service/views.ts";
import type { ControlApiOptions, ControlNode } from "./control_types.ts";
import { dhtState, type MeshmeetMetrics } from "./metrics.ts";
import { ErrorSchema, PeerIdParamSchema, TopicIdSchema } from "./schemas.ts";

/** An error answer: status, `code` and a message saying what was wrong. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ControlApiError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Everything a route module needs. */
export interface ApiContext {
  node: ControlNode;
  options: ControlApiOptions;
  log: Logger;
  metrics: MeshmeetMetrics;
  /** Aborted by `close()`: ends event streams, joins and MCP sessions. */
  closer: AbortController;
  /** Fires `meeting` (detail: the Meeting) when the API joins or leaves one. */
  hub: EventTarget;
  /** Topic ids being joined right now. */
  joining: Set<string>;
  startedAt: number;
  /** Drop meetings that were left; instrument new ones. */
  sync(): void;
  /** The meeting, or a 404. */
  findMeeting(topicId: string): Meeting;
  requireToken: MiddlewareHandler;
  requireJson: MiddlewareHandler;
}

/** OpenAPI `security` of routes that need the bearer token. */
export const BEARER = [{ bearerAuth: [] }];
/** OpenAPI `security` of open reads (declared, so linters know it is meant). */
export const OPEN: { [name: string]: string[] }[] = [];

export const TopicParams = z.object({ topicId: TopicIdSchema });
export const ParticipantParams = z.object({ topicId: TopicIdSchema, peerId: PeerIdParamSchema });

/** OpenAPI error responses for the given statuses. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, {
    description: {
      400: "Bad input (says what was wrong)",
      401: "No bearer token",
      403: "Wrong token, or no token configured",
      404: "Unknown meeting, participant or route",
      405: "Not available on this node",
      409: "Conflicts with the node's state",
      413: "Body or message too large",
      415: "Body is not JSON",
      502: "An upstream (bootstrap node, DHT) failed",
    }[s] ?? "Error",
    content: { "application/json": { schema: ErrorSchema } },
  }]));

/** Addresses that are not public (loopback, private, link-local). */
export const PRIVATE_IP =
  /^\/ip4\/(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.)|^\/ip6\/(::1?\/|f[cd]|fe80)/i;

/** A node's DHT mode and routing table size. */
export function dhtOf(libp2p: BootstrapNode["libp2p"] | Meeting["libp2p"]) {
  return dhtState(libp2p.services.dht);
}

/** A meeting in brief (`GET /meetings`). */
export function meetingSummary(meeting: Meeting) {
  return {
    topicId: meeting.topicId,
    self: selfView(meeting.self),
    participantCount: meeting.participants.length,
    dht: dhtOf(meeting.libp2p),
    connections: meeting.libp2p.getConnections().length,
  };
}

/** Constant-time comparison of two tokens (hashes first, so lengths do not leak). */
export async function sameToken(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** The bearer-token check of every write (401 without a token, 403 with a wrong one or none set). */
export function tokenMiddleware(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) {
      throw new ApiError(
        401,
        "unauthorized",
        "Missing bearer token: send `Authorization: Bearer <token>` (the token printed by " +
          "`meshmeet serve --http` / `meshmeet join --http`)",
        { "WWW-Authenticate": 'Bearer realm="meshmeet"' },
      );
    }
    if (token === undefined || token.length === 0) {
      throw new ApiError(
        403,
        "writes_disabled",
        "This control API has no token configured, so nothing that changes state is allowed; " +
          "start it with a token",
      );
    }
    if (!await sameToken(match[1], token)) {
      throw new ApiError(403, "forbidden", "Wrong bearer token");
    }
    await next();
  };
}

/** 415 unless the body is JSON. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Request body must be JSON (Content-Type: application/json), got ${
        type ? JSON.stringify(type.slice(0, 80)) : "no Content-Type"
      }`,
    );
  }
  await next();
};
