/**
 * Builds the npm package `meshmeet` from the Deno sources and tests it on Node: dnt's job
 * (dnt is on JSR only, which is unreachable here), done with the TypeScript compiler API
 * and esbuild from the npm registry.
 *
 * ```sh
 * deno task build:npm            # emit, bundle, contract suite on Node 22 and 24, npm pack,
 *                                # install the tarball in a fresh project, Node ⇄ Deno example
 * deno task test:node            # emit, then only the contract suite on Node 22 and 24
 * deno run -A build_npm.ts --emit-only   # emit + browser bundle, no tests
 * ```
 *
 * What it emits into `npm/`:
 * - `esm/`: ES modules, `.d.ts` types and source maps (sources inlined) for every module
 *   reachable from `deno.json#exports`. Imports are rewritten for Node: `./x.ts` becomes
 *   `./x.js`, bare names go through `deno.json#imports` to npm package names (their
 *   versions become `dependencies`), and runtime-specific modules are swapped by mapping,
 *   never by sniffing: `src/runtime/x.ts` is replaced by `src/runtime/x.node.ts` where that
 *   file exists. `src/runtime/x.browser.ts` variants are emitted too and listed in the
 *   package's `browser` field, so bundlers targeting browsers swap them in.
 * - `browser/meshmeet.js`: one ES module for browsers (esbuild, minified, with its map),
 *   exported as `meshmeet/browser`.
 * - `bin/meshmeet.js`: the CLI (`deno.json#exports["./cli"]`).
 * - `package.json` (name `meshmeet`, version from `deno.json`, `exports` mirroring
 *   `deno.json#exports`, `engines.node >= 22`), `README.md`, `LICENSE`.
 * - `test/` (not part of the package): the contract suite compiled against the package
 *   (`import … from "meshmeet"`), with `@std/assert` mapped to the local module. It never
 *   reaches `esm/`.
 *
 * The tests run on Node 22 and 24 (binaries from the npm registry's `node` package, via
 * `npx`) against the packed tarball installed into a fresh temporary project, so a missing
 * dependency or a broken `exports` entry fails the build.
 *
 * The steps live in `build/npm/`: `graph.ts` (imports rewritten), `compile.ts` (TypeScript),
 * `emit.ts` (the package), `on_node.ts` (the tarball on Node).
 *
 * @module
 */
import { ARTIFACTS, denoJson, kib, log, NODE_VERSIONS, ROOT } from "./build/npm/_common.ts";
import { emit } from "./build/npm/emit.ts";
import {
  contractOnNode,
  exportsOnNode,
  nodeMeetsDeno,
  packAndInstall,
} from "./build/npm/on_node.ts";

export { NODE_VERSIONS, PACKAGE_NAME } from "./build/npm/_common.ts";
export { emit, type EmitResult } from "./build/npm/emit.ts";
export { nodeBinary } from "./build/npm/on_node.ts";

async function main(args: string[]): Promise<number> {
  const emitOnly = args.includes("--emit-only");
  const testOnly = args.includes("--test-only"); // contract suite on Node, no example run
  const result = await emit();
  const sizes = {
    bundleBytes: result.bundle.bytes,
    bundleGzipBytes: result.bundle.gzipBytes,
  };
  log(`browser bundle: ${kib(sizes.bundleBytes)} (${kib(sizes.bundleGzipBytes)} gzip)`);
  if (emitOnly) return 0;
  const { project, tarball, size } = await packAndInstall();
  const summary: Record<string, unknown> = {
    version: denoJson.version,
    tarball: tarball.slice(ROOT.length + 1),
    tarballBytes: size,
    ...sizes,
    dependencies: result.dependencies,
    contract: [] as string[],
  };
  try {
    for (const major of NODE_VERSIONS) await exportsOnNode(project, major);
    for (const major of NODE_VERSIONS) {
      (summary.contract as string[]).push(await contractOnNode(project, major));
    }
    if (!testOnly) {
      summary.nodePeer = {};
      for (const major of NODE_VERSIONS) {
        (summary.nodePeer as Record<string, unknown>)[major] = await nodeMeetsDeno(project, major);
      }
    }
  } finally {
    await Deno.remove(project, { recursive: true }).catch(() => {});
  }
  Deno.writeTextFileSync(`${ARTIFACTS}/npm-build.json`, JSON.stringify(summary, null, 2) + "\n");
  log(`OK: ${JSON.stringify(summary)}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`build_npm.ts: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
