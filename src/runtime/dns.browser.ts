/**
 * TXT lookups for `/dnsaddr` bootstrap lists, in browsers: DNS-over-HTTPS (the JSON API
 * that Cloudflare and Google serve, `application/dns-json`). Same exports as `dns.ts`.
 *
 * @module
 */

/** Where to send DNS queries. */
export interface DnsOptions {
  /** A DNS server (Deno/Node only; ignored here). */
  nameServer?: { ipAddr: string; port?: number };
  /**
   * DNS-over-HTTPS endpoint.
   * @default {"https://cloudflare-dns.com/dns-query"}
   */
  dohUrl?: string;
  /** Aborts the lookup. */
  signal?: AbortSignal;
}

/**
 * The TXT records of a name, each joined into one string.
 *
 * @param name The domain name.
 * @param options DoH endpoint, signal.
 * @returns The records (empty when the name has none).
 * @throws {Error} When the DoH server cannot be reached or answers an error.
 */
export async function resolveTxt(name: string, options: DnsOptions = {}): Promise<string[]> {
  const url = new URL(options.dohUrl ?? "https://cloudflare-dns.com/dns-query");
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  const response = await fetch(url, {
    headers: { accept: "application/dns-json" },
    signal: options.signal,
  });
  if (!response.ok) throw new Error(`DNS-over-HTTPS ${url.origin} answered ${response.status}`);
  const body = await response.json() as {
    Status: number;
    Answer?: { type: number; data: string }[];
  };
  if (body.Status === 3) return []; // NXDOMAIN
  if (body.Status !== 0) {
    throw new Error(`DNS-over-HTTPS lookup of ${name} failed (rcode ${body.Status})`);
  }
  // TXT data comes quoted, possibly as several "chunk" "chunk" strings.
  return (body.Answer ?? []).filter((a) => a.type === 16).map((a) =>
    [...a.data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1")).join(
      "",
    ) ||
    a.data
  );
}
