/**
 * Shared helpers of the benchmark: statistics, progress output, child processes that
 * speak JSON lines, process CPU/RSS from /proc, and loopback-only network namespaces.
 * Each lives in its own module; this one re-exports them all (the bench imports them from
 * here).
 *
 * @module
 */
export * from "./_base.ts";
export * from "./_child.ts";
export * from "./_host.ts";
export * from "./_stats.ts";
