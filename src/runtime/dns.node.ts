/**
 * TXT lookups for `/dnsaddr` bootstrap lists, on Node: `node:dns`. Same exports as
 * `dns.ts`.
 *
 * @module
 */
import { Resolver } from "node:dns/promises";

/** Where to send DNS queries (the system's resolver when omitted). */
export interface DnsOptions {
  /** A DNS server (Deno/Node): address and port. */
  nameServer?: { ipAddr: string; port?: number };
  /** DNS-over-HTTPS endpoint (browsers; JSON API, `application/dns-json`). */
  dohUrl?: string;
  /** Aborts the lookup. */
  signal?: AbortSignal;
}

/**
 * The TXT records of a name, each joined into one string.
 *
 * @param name The domain name.
 * @param options Name server, signal.
 * @returns The records (empty when the name has none).
 * @throws {Error} When the lookup fails for another reason than "no such name/record".
 */
export async function resolveTxt(name: string, options: DnsOptions = {}): Promise<string[]> {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (options.nameServer) {
    const { ipAddr, port } = options.nameServer;
    resolver.setServers([
      ipAddr.includes(":") ? `[${ipAddr}]:${port ?? 53}` : `${ipAddr}:${port ?? 53}`,
    ]);
  }
  const onAbort = () => resolver.cancel();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const records = await resolver.resolveTxt(name);
    return records.map((chunks) => chunks.join(""));
  } catch (err) {
    options.signal?.throwIfAborted();
    const code = (err as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}
