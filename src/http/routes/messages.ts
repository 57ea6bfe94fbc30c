/**
 * `POST /meetings/{topicId}/messages`: send to one participant or to everyone.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { FrameTooLargeError, MeetingClosedError, PeerNotFoundError } from "../../errors.ts";
import { dataFromBody, findParticipant } from "../../service/views.ts";
import { type ApiContext, ApiError, BEARER, errorResponses, TopicParams } from "../_context.ts";
import { SendBodySchema, SendResultSchema } from "../schemas.ts";

/** Register the routes on the control API app. */
export function messageRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/meetings/{topicId}/messages",
      operationId: "sendMessage",
      tags: ["meetings"],
      summary: "Send a message to one participant or to everyone",
      description: "Needs the bearer token. Answers when every receiver acknowledged or " +
        "failed; failed deliveries are listed, not turned into an HTTP error.",
      security: BEARER,
      middleware: [ctx.requireToken, ctx.requireJson] as const,
      request: {
        params: TopicParams,
        body: {
          required: true,
          content: { "application/json": { schema: SendBodySchema } },
        },
      },
      responses: {
        200: {
          description: "Who acknowledged and who failed",
          content: { "application/json": { schema: SendResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const meeting = ctx.findMeeting(c.req.valid("param").topicId);
      const body = c.req.valid("json");
      const data = dataFromBody(body);
      const channel = body.channel ?? 0;
      if (body.to === undefined) {
        const { delivered, failed } = await meeting.broadcast(data, { channel });
        return c.json({
          delivered,
          failed: failed.map((f) => ({ peerId: f.peerId, error: f.error.message })),
        }, 200);
      }
      const found = findParticipant(meeting, body.to);
      if ("error" in found) {
        throw new ApiError(
          found.error === "ambiguous_name" ? 409 : 404,
          found.error === "ambiguous_name" ? "ambiguous_name" : "participant_not_found",
          found.message,
        );
      }
      const target = found.participant;
      try {
        await meeting.send(target.peerId, data, { channel });
        return c.json({ delivered: [target.peerId], failed: [] }, 200);
      } catch (err) {
        if (
          err instanceof FrameTooLargeError || err instanceof PeerNotFoundError ||
          err instanceof MeetingClosedError
        ) throw err;
        return c.json({
          delivered: [],
          failed: [{ peerId: target.peerId, error: (err as Error).message }],
        }, 200);
      }
    },
  );
}
