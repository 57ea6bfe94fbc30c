/**
 * Meetings: list, one meeting, one participant, join (`POST /meetings`), leave.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { BootstrapError, InvalidInvitationCodeError, MeshmeetError } from "../../errors.ts";
import type { Meeting } from "../../meeting.ts";
import { participantView } from "../../service/views.ts";
import { deriveTopicKeys } from "../../topic.ts";
import {
  type ApiContext,
  ApiError,
  BEARER,
  errorResponses,
  meetingSummary,
  OPEN,
  ParticipantParams,
  TopicParams,
} from "../_context.ts";
import {
  JoinBodySchema,
  LeaveResultSchema,
  MeetingSchema,
  MeetingSummarySchema,
  ParticipantSchema,
} from "../schemas.ts";

/** Register the routes on the control API app. */
export function meetingRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings",
      operationId: "listMeetings",
      security: OPEN,
      tags: ["meetings"],
      summary: "Meetings of this node",
      responses: {
        200: {
          description: "The meetings, by topic id",
          content: {
            "application/json": {
              schema: MeetingSummarySchema.array().openapi("MeetingList"),
            },
          },
        },
      },
    }),
    (c) => {
      ctx.sync();
      return c.json([...ctx.node.meetings.values()].map(meetingSummary), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings/{topicId}",
      operationId: "getMeeting",
      security: OPEN,
      tags: ["meetings"],
      summary: "One meeting with its participants",
      request: { params: TopicParams },
      responses: {
        200: {
          description: "The meeting",
          content: { "application/json": { schema: MeetingSchema } },
        },
        ...errorResponses(400, 404),
      },
    }),
    (c) => {
      const meeting = ctx.findMeeting(c.req.valid("param").topicId);
      return c.json({
        ...meetingSummary(meeting),
        participants: meeting.participants.map((p) => participantView(meeting, p)),
        stats: meeting.stats,
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings/{topicId}/participants/{peerId}",
      operationId: "getParticipant",
      security: OPEN,
      tags: ["meetings"],
      summary: "One participant: state, path, candidate pair, ICE states, RTT, last seen",
      request: { params: ParticipantParams },
      responses: {
        200: {
          description: "The participant",
          content: { "application/json": { schema: ParticipantSchema } },
        },
        ...errorResponses(400, 404),
      },
    }),
    (c) => {
      const { topicId, peerId } = c.req.valid("param");
      const meeting = ctx.findMeeting(topicId);
      const p = meeting.participants.find((x) => x.peerId === peerId);
      if (!p) {
        throw new ApiError(
          404,
          "participant_not_found",
          `${peerId} is not a participant of meeting ${topicId.slice(0, 12)}…`,
        );
      }
      return c.json(participantView(meeting, p), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/meetings",
      operationId: "joinMeeting",
      tags: ["meetings"],
      summary: "Join a meeting",
      description: "Needs the bearer token. The code derives the meeting's keys here and is " +
        "never stored, logged or returned.",
      security: BEARER,
      middleware: [ctx.requireToken, ctx.requireJson] as const,
      request: {
        body: {
          required: true,
          content: { "application/json": { schema: JoinBodySchema } },
        },
      },
      responses: {
        201: {
          description: "Joined",
          content: { "application/json": { schema: MeetingSummarySchema } },
        },
        ...errorResponses(400, 401, 403, 405, 409, 413, 415, 502),
      },
    }),
    async (c) => {
      if (!ctx.node.join) {
        throw new ApiError(
          405,
          "join_unsupported",
          "This node cannot join meetings (its control API was created without a join function)",
        );
      }
      const { code, name } = c.req.valid("json");
      const { topicId } = await deriveTopicKeys(code);
      ctx.sync();
      if (ctx.node.meetings.has(topicId) || ctx.joining.has(topicId)) {
        throw new ApiError(
          409,
          "already_joined",
          `This node is already in meeting ${topicId.slice(0, 12)}…`,
        );
      }
      ctx.joining.add(topicId);
      let meeting: Meeting;
      try {
        meeting = await ctx.node.join(code, { name, signal: ctx.closer.signal });
      } catch (err) {
        if (err instanceof TypeError) throw new ApiError(400, "invalid_request", err.message);
        if (err instanceof MeshmeetError && !(err instanceof InvalidInvitationCodeError)) {
          if (!(err instanceof BootstrapError)) {
            throw new ApiError(502, "join_failed", err.message);
          }
        }
        throw err;
      } finally {
        ctx.joining.delete(topicId);
      }
      ctx.node.meetings.set(meeting.topicId, meeting);
      ctx.metrics.instrument(meeting);
      ctx.hub.dispatchEvent(new CustomEvent("meeting", { detail: meeting }));
      return c.json(meetingSummary(meeting), 201, { Location: `/meetings/${meeting.topicId}` });
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/meetings/{topicId}",
      operationId: "leaveMeeting",
      tags: ["meetings"],
      summary: "Leave a meeting",
      security: BEARER,
      middleware: [ctx.requireToken] as const,
      request: { params: TopicParams },
      responses: {
        200: {
          description: "Left",
          content: { "application/json": { schema: LeaveResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { topicId } = c.req.valid("param");
      const meeting = ctx.findMeeting(topicId);
      await meeting.leave();
      ctx.node.meetings.delete(topicId);
      ctx.hub.dispatchEvent(new CustomEvent("meeting", { detail: meeting }));
      return c.json({ topicId, left: true as const }, 200);
    },
  );
}
