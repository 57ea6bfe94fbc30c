/**
 * Bootstrap lists a deployment can ship: `/dnsaddr/<domain>` entries resolved through DNS
 * TXT records (the libp2p convention: `_dnsaddr.<domain>` holds `dnsaddr=<multiaddr>`
 * strings, which may point to further `/dnsaddr` names), and the `MESHMEET_BOOTSTRAP`
 * environment variable (read by the CLI).
 *
 * An operator publishes the addresses `meshmeet serve` prints ({@linkcode dnsaddrRecords})
 * and hands users one short, stable address, `/dnsaddr/bootstrap.example.org`; moving or
 * adding nodes is then a DNS change.
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import { BootstrapError } from "./errors.ts";
import { type DnsOptions, resolveTxt } from "./runtime/dns.ts";

/** The environment variable the CLI reads a bootstrap list from. */
export const BOOTSTRAP_ENV = "MESHMEET_BOOTSTRAP";

/** How deep `/dnsaddr` names may point to further `/dnsaddr` names. */
export const MAX_DNSADDR_DEPTH = 4;

/** Options of {@linkcode resolveBootstrapList}. */
export interface ResolveBootstrapOptions extends DnsOptions {
  /** The TXT lookup (the runtime's resolver by default; for tests). */
  resolveTxt?: (name: string, options: DnsOptions) => Promise<string[]>;
}

const DNSADDR = /^\/dnsaddr\/([^/]+)(?:\/p2p\/([^/]+))?$/;

/**
 * Split a bootstrap list given as one string (`MESHMEET_BOOTSTRAP`): multiaddrs separated
 * by commas, spaces or newlines.
 *
 * @param value The variable's value.
 * @returns The multiaddrs (none for an empty or missing value).
 *
 * @example
 * ```ts
 * import { parseBootstrapList } from "@meshmeet/core";
 * parseBootstrapList("/dnsaddr/a.example, /ip4/192.0.2.1/tcp/4001/p2p/12D3Koo…").length; // 2
 * ```
 */
export function parseBootstrapList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((s) => s.length > 0);
}

/**
 * Expand the `/dnsaddr/<domain>[/p2p/<id>]` entries of a bootstrap list into the
 * multiaddrs their TXT records list; other entries are kept as they are.
 *
 * @param list Bootstrap multiaddrs.
 * @param options DNS server (Deno/Node), DNS-over-HTTPS endpoint (browsers), signal.
 * @returns The resolved list, without duplicates.
 * @throws {BootstrapError} When a `/dnsaddr` name has no usable record and nothing else
 * is left, or a record is not a multiaddr.
 *
 * @example
 * ```ts ignore
 * const list = await resolveBootstrapList(["/dnsaddr/bootstrap.example.org"]);
 * ```
 */
export async function resolveBootstrapList(
  list: readonly string[],
  options: ResolveBootstrapOptions = {},
): Promise<string[]> {
  const out: string[] = [];
  const problems: string[] = [];
  for (const entry of list) {
    if (!entry.startsWith("/dnsaddr/")) {
      out.push(entry);
      continue;
    }
    try {
      const found = await _expand(entry, options, 0);
      if (found.length === 0) problems.push(`${entry}: no dnsaddr TXT records`);
      out.push(...found);
    } catch (err) {
      options.signal?.throwIfAborted();
      if (err instanceof BootstrapError) throw err;
      problems.push(`${entry}: ${(err as Error).message}`);
    }
  }
  if (out.length === 0 && problems.length > 0) {
    throw new BootstrapError(
      `Cannot resolve the bootstrap list: ${problems.join("; ")}; publish TXT records ` +
        `"dnsaddr=<multiaddr>" under _dnsaddr.<domain> (meshmeet serve prints them)`,
    );
  }
  return [...new Set(out)];
}

async function _expand(
  entry: string,
  options: ResolveBootstrapOptions,
  depth: number,
): Promise<string[]> {
  const m = entry.match(DNSADDR);
  if (!m) throw new BootstrapError(`Bootstrap address ${JSON.stringify(entry)} is not a dnsaddr`);
  if (depth >= MAX_DNSADDR_DEPTH) {
    throw new BootstrapError(
      `Cannot resolve ${entry}: /dnsaddr records nest deeper than ${MAX_DNSADDR_DEPTH} levels`,
    );
  }
  const [, domain, peerId] = m;
  const lookup = options.resolveTxt ?? resolveTxt;
  const records = await lookup(`_dnsaddr.${domain}`, options);
  const out: string[] = [];
  for (const record of records) {
    if (!record.startsWith("dnsaddr=")) continue;
    const address = record.slice("dnsaddr=".length).trim();
    try {
      multiaddr(address);
    } catch (cause) {
      throw new BootstrapError(
        `TXT record of _dnsaddr.${domain} is not a multiaddr: ${JSON.stringify(address)}`,
        { cause },
      );
    }
    if (peerId !== undefined && !address.endsWith(`/p2p/${peerId}`)) continue;
    if (address.startsWith("/dnsaddr/")) out.push(...await _expand(address, options, depth + 1));
    else out.push(address);
  }
  return out;
}

/**
 * The DNS TXT records that publish bootstrap addresses under a domain, in zone-file form.
 *
 * @param domain The domain users will put after `/dnsaddr/` (e.g. `bootstrap.example.org`).
 * @param addresses The node's public multiaddrs (with `/p2p/<peer id>`).
 * @returns One zone-file line per address.
 *
 * @example
 * ```ts
 * import { dnsaddrRecords } from "@meshmeet/core";
 * dnsaddrRecords("boot.example", ["/dns4/boot.example/tcp/4001/p2p/12D3KooW…"]);
 * // ['_dnsaddr.boot.example. 300 IN TXT "dnsaddr=/dns4/boot.example/tcp/4001/p2p/12D3KooW…"']
 * ```
 */
export function dnsaddrRecords(domain: string, addresses: readonly string[]): string[] {
  const name = `_dnsaddr.${domain.replace(/\.$/, "")}.`;
  return addresses.map((a) => `${name} 300 IN TXT "dnsaddr=${a}"`);
}
