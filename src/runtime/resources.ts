/**
 * What this process holds: memory (from the runtime) and, on Linux, open file descriptors
 * and threads (from `/proc/self`). For the control API's `/metrics`, so that an operator sees
 * a long-running bootstrap node or member grow. Deno and Node both provide `node:process`
 * and `node:fs`, so one file serves both.
 *
 * @module
 */
import process from "node:process";
import { readdirSync, readFileSync } from "node:fs";

/** One reading of {@linkcode processResources}. */
export interface ProcessResources {
  /** Resident set size. */
  rssBytes: number;
  /** V8 heap in use (live objects and garbage not yet collected). */
  heapUsedBytes: number;
  /** V8 heap committed. */
  heapTotalBytes: number;
  /** Memory of array buffers and other objects outside the V8 heap. */
  externalBytes: number;
  /** Open file descriptors (Linux only). */
  openFds?: number;
  /** Threads of the process (Linux only). */
  threads?: number;
}

/**
 * Read what this process holds now.
 *
 * @returns Memory always; file descriptors and threads where `/proc/self` exists.
 */
export function processResources(): ProcessResources {
  const memory = process.memoryUsage();
  const out: ProcessResources = {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
  };
  try {
    out.openFds = readdirSync("/proc/self/fd").length;
    const threads = /^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (threads) out.threads = Number(threads[1]);
  } catch {
    // Not Linux (or /proc not mounted): memory only.
  }
  return out;
}
