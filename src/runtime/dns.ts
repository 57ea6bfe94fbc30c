/**
 * TXT lookups for `/dnsaddr` bootstrap lists, on Deno: `Deno.resolveDns`. `dns.node.ts`
 * (node:dns) and `dns.browser.ts` (DNS-over-HTTPS) have the same exports.
 *
 * @module
 */

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
 * @param name The domain name, e.g. `_dnsaddr.bootstrap.example.org`.
 * @param options Name server, signal.
 * @returns The records (empty when the name has none).
 * @throws {Error} When the lookup fails for another reason than "no such name/record".
 */
export async function resolveTxt(name: string, options: DnsOptions = {}): Promise<string[]> {
  try {
    const records = await Deno.resolveDns(name, "TXT", {
      ...(options.nameServer
        ? { nameServer: { ipAddr: options.nameServer.ipAddr, port: options.nameServer.port ?? 53 } }
        : {}),
      signal: options.signal,
    });
    return records.map((chunks) => chunks.join(""));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}
