/**
 * Worker: part 6 (scale), meant to run in its own loopback-only network namespace
 * (`unshare --net`), so that the loopback counters of /proc/net/dev count this part's
 * traffic and nothing else. It starts its own bootstrap node (or DHT servers) as child
 * processes in the same namespace and runs every participant in this process.
 *
 * Ops:
 * - `meetings` ({ meetings, peers, concurrency, timeoutMs }) -> 6a
 * - `bigMeeting` ({ n, concurrency, timeoutMs }) -> 6b
 * - `records` ({ records, servers, timeoutMs }) -> 6c
 * - `discovery` ({ meetings, peers, concurrency, intervalMs, timeoutMs }) -> 6a/6b without
 *   WebRTC (see {@linkcode discovery})
 *
 * The scenarios live in `_scale_meetings.ts` (6a, 6b), `_scale_discovery.ts` and
 * `_scale_records.ts` (6c), what they share in `_scale_common.ts`; this file only serves
 * them.
 *
 * @module
 */
import { serve } from "./_serve.ts";
import { discovery } from "./_scale_discovery.ts";
import { bigMeeting, meetings } from "./_scale_meetings.ts";
import { records } from "./_scale_records.ts";

await serve({ discovery, meetings, bigMeeting, records });
