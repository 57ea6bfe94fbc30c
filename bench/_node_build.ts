/**
 * The npm build on Node, for the Node columns: packs `npm/` (made by `deno task build:npm`)
 * and installs the tarball into a cache directory under bench/.cache/, then finds a Node
 * >= 23 binary (the machine's Node 20 cannot run libp2p 3.x; `npx node@24` ships one).
 *
 * @module
 */
import { BENCH_DIR, progress, ROOT } from "./_util.ts";

/** Where the npm build is installed and which Node runs it. */
export interface NodeBuild {
  /** Absolute path of a Node >= 23 binary. */
  node: string;
  /** file: URL of the installed package's entry module. */
  entry: string;
  /** Node version string. */
  version: string;
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(-1500)}`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

async function contentHash(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (d: string) => {
    const entries = [];
    for await (const e of Deno.readDir(d)) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = `${d}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && !e.name.endsWith(".map")) {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
        parts.push(
          `${path.slice(dir.length)}:${
            [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")
          }`,
        );
      }
    }
  };
  await walk(`${dir}/esm`);
  parts.push(await Deno.readTextFile(`${dir}/package.json`));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return [...new Uint8Array(digest)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

async function newestMtime(path: string): Promise<number> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return info.mtime?.getTime() ?? 0;
  let newest = 0;
  for await (const e of Deno.readDir(path)) {
    newest = Math.max(newest, await newestMtime(`${path}/${e.name}`));
  }
  return newest;
}

/**
 * Make sure `npm/` (the Node build and the browser bundle) is built from the sources as they
 * are now: when it is missing or older than `mod.ts`, `src/` or `deno.json`, run
 * `build_npm.ts --emit-only` (no packing, no Node suite). Without this, the Node and
 * Chromium columns silently measured whatever was built last.
 *
 * @returns A sentence saying what was done.
 */
export async function freshNpmBuild(): Promise<string> {
  const sources = Math.max(
    await newestMtime(`${ROOT}mod.ts`),
    await newestMtime(`${ROOT}src`),
    await newestMtime(`${ROOT}deno.json`),
  );
  const built = await Deno.stat(`${ROOT}npm/esm/mod.js`).then((i) => i.mtime?.getTime() ?? 0)
    .catch(() => 0);
  if (built >= sources) return "npm/ is up to date with the sources";
  progress(
    "node",
    "npm/ is missing or older than the sources: building it (build_npm.ts --emit-only)",
  );
  await run(Deno.execPath(), ["run", "-A", "build_npm.ts", "--emit-only"], ROOT);
  return "npm/ rebuilt from the sources";
}

let cached: Promise<NodeBuild | string> | undefined;

/**
 * Install the npm build for Node (once per build).
 *
 * @returns The build, or a sentence saying why it is not available.
 */
export function nodeBuild(): Promise<NodeBuild | string> {
  cached ??= (async () => {
    const pkgPath = `${ROOT}npm/package.json`;
    let pkg: { name: string; version: string };
    try {
      pkg = JSON.parse(await Deno.readTextFile(pkgPath));
      await Deno.stat(`${ROOT}npm/esm/mod.js`);
    } catch {
      return "pending: no npm build at npm/ (run `deno task build:npm`)";
    }
    try {
      const hash = await contentHash(`${ROOT}npm`);
      const dir = `${BENCH_DIR}.cache/node-${pkg.version}-${hash}`;
      // Earlier installs of other builds are of no further use.
      await Deno.mkdir(`${BENCH_DIR}.cache`, { recursive: true });
      for await (const e of Deno.readDir(`${BENCH_DIR}.cache`)) {
        const path = `${BENCH_DIR}.cache/${e.name}`;
        if (e.isDirectory && e.name.startsWith("node-") && path !== dir) {
          await Deno.remove(path, { recursive: true }).catch(() => {});
        }
      }
      const entry = `${dir}/node_modules/${pkg.name}/esm/mod.js`;
      try {
        await Deno.stat(entry);
      } catch {
        progress("node", `installing the npm build into ${dir.replace(ROOT, "")} (once)`);
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(
          `${dir}/package.json`,
          JSON.stringify({ name: "meshmeet-bench-node", private: true, type: "module" }),
        );
        const tarball =
          (await run("npm", ["pack", "--silent", "--pack-destination", dir], `${ROOT}npm`))
            .split("\n").pop()!;
        await run("npm", ["install", "--no-audit", "--no-fund", "--silent", `./${tarball}`], dir);
      }
      const node = await run("npx", ["-y", "node@24", "-p", "process.execPath"], dir);
      const version = await run(node, ["--version"], dir);
      return { node, entry: `file://${entry}`, version };
    } catch (err) {
      return `unavailable: ${(err as Error).message.split("\n")[0]}`;
    }
  })();
  return cached;
}
