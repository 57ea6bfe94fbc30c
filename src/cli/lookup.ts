/**
 * `meshmeet lookup <topic id | code>`: what the DHT knows about a topic.
 *
 * A code is turned into its topic id here, with the same slow key derivation a
 * participant uses, and is never sent anywhere: the DHT and the control API only ever see
 * the topic id.
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import { lookupTopic, type TopicLookupResult } from "../http/topic_lookup.ts";
import { createLogger } from "../logger.ts";
import { createParticipantLibp2p } from "../node.ts";
import { env } from "../runtime/process.ts";
import { deriveTopicKeys, isTopicId } from "../topic.ts";
import { parseArgs, UsageError } from "./args.ts";
import { Output } from "./output.ts";
import { BOOTSTRAP_ENV, parseBootstrapList, resolveBootstrapList } from "../bootstrap_list.ts";
import { findPeer, type FoundPeer } from "../peer_record.ts";
import type { ParticipantLibp2p } from "../node.ts";

async function _connected(
  bootstrap: string[],
  timeoutMs: number,
  out: Output,
): Promise<ParticipantLibp2p> {
  const libp2p = await createParticipantLibp2p();
  try {
    out.progress(`connecting to ${bootstrap.length} bootstrap node(s)…`);
    const signal = AbortSignal.timeout(Math.min(timeoutMs, 10_000));
    const dials = await Promise.allSettled(
      bootstrap.map((a) => libp2p.dial(multiaddr(a), { signal })),
    );
    if (dials.every((d) => d.status === "rejected")) {
      const reasons = dials.map((d) => (d as PromiseRejectedResult).reason?.message);
      throw new Error(`Cannot reach any bootstrap node (${reasons.join("; ")})`);
    }
    return libp2p;
  } catch (err) {
    await libp2p.stop();
    throw err;
  }
}

/**
 * Format a found peer for people.
 *
 * @param found The verified peer record.
 * @param now The current time (ms since the epoch).
 * @returns The lines to print.
 */
export function formatFoundPeer(found: FoundPeer, now = Date.now()): string {
  return [
    `peer ${found.peerId}`,
    `  record seq ${found.seq}, signed ${_ago(found.issuedAt - now)}, expires ${
      _ago(found.expiresAt - now)
    }, signature valid`,
    `  ${found.addresses.length} address(es):`,
    ...found.addresses.map((a) => `    ${a}`),
  ].join("\n");
}

async function _lookupPeer(
  peerId: string,
  bootstrap: string[],
  timeoutMs: number,
  out: Output,
): Promise<number> {
  const libp2p = await _connected(bootstrap, timeoutMs, out);
  try {
    out.progress("looking the peer up in the DHT…");
    const found = await findPeer(libp2p, peerId, { timeoutMs });
    if (out.json) out.event("peer", "", { ...found });
    else out.event("peer", formatFoundPeer(found));
    return 0;
  } finally {
    await libp2p.stop();
  }
}

/** Usage of `lookup`. */
export const LOOKUP_USAGE =
  `meshmeet lookup <topic id | invitation code> (--bootstrap <multiaddr> | --api <url>)
meshmeet lookup --peer <peer id> --bootstrap <multiaddr>

Show who has announced themselves under a topic, as the DHT sees it: their peer ids and
whether their (encrypted) presence records are there, with sequence number and expiry.
An invitation code is turned into its topic id on this machine and never sent anywhere.
With --peer, find one peer's current addresses from the record it signs and refreshes
(participants that joined with findable: true, or \`meshmeet join --findable\`).

Options:
  --bootstrap <multiaddr>  ask the DHT through this bootstrap node (or /dnsaddr/<domain>),
                           repeatable (default: $MESHMEET_BOOTSTRAP)
  --peer <peer id>         find this peer instead of a topic
  --api <url>              ask a running node's control API instead (e.g. http://127.0.0.1:8787)
  --timeout <ms>           time budget of the lookup (default 10000)
  --json                   print one JSON object
  --help                   show this help`;

function _ago(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/**
 * Format a lookup result for people.
 *
 * @param result The lookup result.
 * @param now The current time (ms since the epoch).
 * @returns The lines to print.
 */
export function formatLookup(result: TopicLookupResult, now = Date.now()): string {
  const lines = [
    `topic ${result.topicId}`,
    `  CID ${result.cid}, asked through ${result.via} in ${Math.round(result.durationMs)} ms`,
  ];
  if (result.warning) lines.push(`  note: ${result.warning}`);
  if (result.providers.length === 0) {
    lines.push("nobody has announced themselves under this topic (or their records expired)");
    return lines.join("\n");
  }
  lines.push(
    `${result.providers.length} participant(s) announced (records are encrypted; only ` +
      `members can read names and addresses):`,
  );
  for (const p of result.providers) {
    const r = p.record;
    let what: string;
    if (!r.present) what = `no presence record (${r.error ?? "not found"})`;
    else if (r.valid === false) what = `invalid record, ${r.bytes} bytes (${r.error})`;
    else {
      what = `record seq ${r.seq}, ${r.expired ? "expired" : "expires"} ${
        _ago((r.expiresAt ?? 0) - now)
      }, ${r.bytes} bytes, signature valid`;
    }
    lines.push(`  ${p.peerId}  ${what}`);
  }
  return lines.join("\n");
}

/**
 * Run `lookup`.
 *
 * @param argv Arguments after `lookup`.
 * @returns Exit code.
 */
export async function lookup(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ["api", "timeout", "peer"],
    lists: ["bootstrap"],
    flags: ["json"],
  });
  const peer = args.values.peer;
  if (peer !== undefined && (args.positional.length > 0 || args.values.api !== undefined)) {
    throw new UsageError("lookup --peer takes no topic and no --api, only --bootstrap");
  }
  if (peer === undefined && args.positional.length !== 1) {
    throw new UsageError("lookup needs exactly one topic id or invitation code");
  }
  let bootstrap = args.lists.bootstrap ?? parseBootstrapList(env(BOOTSTRAP_ENV));
  const api = args.values.api;
  if ((bootstrap.length === 0) === (api === undefined)) {
    throw new UsageError("lookup needs either --bootstrap <multiaddr> or --api <url>");
  }
  const timeoutMs = args.values.timeout === undefined ? 10_000 : Number(args.values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new UsageError("--timeout must be a number of ms between 100 and 60000");
  }
  if (bootstrap.some((a) => a.startsWith("/dnsaddr/"))) {
    bootstrap = await resolveBootstrapList(bootstrap, { signal: AbortSignal.timeout(timeoutMs) });
  }
  for (const address of bootstrap) {
    try {
      multiaddr(address);
    } catch {
      throw new UsageError(`--bootstrap ${JSON.stringify(address)} is not a multiaddr`);
    }
  }
  let apiUrl: URL | undefined;
  if (api !== undefined) {
    try {
      apiUrl = new URL(api);
    } catch {
      throw new UsageError(`--api ${JSON.stringify(api)} is not a URL`);
    }
  }
  const out = new Output(args.flags.has("json"));
  if (peer !== undefined) return await _lookupPeer(peer, bootstrap, timeoutMs, out);
  let topicId = args.positional[0].trim();
  if (!isTopicId(topicId)) {
    out.progress("deriving the topic id from the code (on this machine; the code is not sent)…");
    topicId = (await deriveTopicKeys(topicId)).topicId;
  }

  let result: TopicLookupResult;
  if (apiUrl) {
    out.progress(`asking ${apiUrl.origin} …`);
    const url = new URL(`topics/${topicId}`, apiUrl.href.endsWith("/") ? apiUrl : `${apiUrl}/`);
    url.searchParams.set("timeoutMs", String(timeoutMs));
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs + 5000) });
    } catch (err) {
      throw new Error(
        `Cannot reach the control API at ${apiUrl.origin}: ${(err as Error).message}`,
      );
    }
    const body = await res.json().catch(() => undefined);
    if (!res.ok) {
      throw new Error(
        `The control API answered ${res.status}: ${body?.error?.message ?? res.statusText}`,
      );
    }
    result = body as TopicLookupResult;
  } else {
    const debug = env("MESHMEET_DEBUG");
    const logger = debug ? createLogger({ enabled: debug }) : undefined;
    logger?.forComponent("meshmeet:lookup")(`looking up topic ${topicId.slice(0, 12)}`);
    const libp2p = await _connected(bootstrap, timeoutMs, out);
    try {
      out.progress("looking the topic up in the DHT…");
      result = await lookupTopic(libp2p, topicId, { timeoutMs });
    } finally {
      await libp2p.stop();
    }
  }
  if (out.json) out.event("lookup", "", { ...result });
  else out.event("lookup", formatLookup(result));
  return 0;
}
