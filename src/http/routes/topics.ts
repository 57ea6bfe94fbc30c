/**
 * `GET /topics/{topicId}`: who announced under a topic id, as the DHT sees it.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { type ApiContext, ApiError, errorResponses, OPEN, TopicParams } from "../_context.ts";
import { TopicLookupSchema, TopicQuerySchema } from "../schemas.ts";
import { lookupTopic } from "../topic_lookup.ts";

/** Register the routes on the control API app. */
export function topicRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/topics/{topicId}",
      operationId: "lookupTopic",
      security: OPEN,
      tags: ["topics"],
      summary: "Who announced under a topic id, as the DHT sees it",
      description: "Providers of the topic and, for each, whether its presence record is in " +
        "the DHT with its sequence number and expiry. Records stay encrypted: this is what a " +
        "non-member sees. Takes a topic id only, never an invitation code (derive the topic " +
        "id locally with `meshmeet lookup <code>`).",
      request: { params: TopicParams, query: TopicQuerySchema },
      responses: {
        200: {
          description: "What the DHT knows",
          content: { "application/json": { schema: TopicLookupSchema } },
        },
        ...errorResponses(400, 409),
      },
    }),
    async (c) => {
      const { topicId } = c.req.valid("param");
      const { timeoutMs } = c.req.valid("query");
      ctx.sync();
      const libp2p = ctx.node.bootstrap?.libp2p ??
        [...ctx.node.meetings.values()].find((m) => !m.left)?.libp2p;
      if (!libp2p) {
        throw new ApiError(
          409,
          "no_dht_node",
          "This node has no DHT node to ask: it runs no bootstrap node and is in no meeting",
        );
      }
      const result = await lookupTopic(libp2p, topicId, {
        timeoutMs: timeoutMs ?? ctx.options.lookupTimeoutMs ?? 10_000,
        signal: ctx.closer.signal,
        onQuery: (query, ms, ok) => ctx.metrics.observeDhtQuery(query, ms, ok),
      });
      return c.json(result, 200);
    },
  );
}
