/**
 * What every step of the npm build shares: the repository's paths, `deno.json`, the package's
 * name and Node versions, small file and path helpers, and running commands.
 *
 * @module
 */

/** The repository (no trailing slash). */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** Where the package is emitted. */
export const OUT = `${ROOT}/npm`;
/** Where tarballs and reports go. */
export const ARTIFACTS = `${ROOT}/.artifacts`;
/** Node versions the package supports and is tested on. */
export const NODE_VERSIONS: readonly string[] = ["22", "24"];
/** Package name on npm. */
export const PACKAGE_NAME = "meshmeet";

/** The fields of `deno.json` the build reads. */
export interface DenoJson {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

/** The repository's `deno.json`. */
export const denoJson: DenoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));

/** A progress line with the time since the build started. */
export function log(message: string): void {
  console.log(`[build_npm ${(performance.now() / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

/** The directory part of a `/`-separated path. */
export function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** `to` relative to the directory `fromDir`, always starting with `.`. */
export function relative(fromDir: string, to: string): string {
  const a = fromDir.split("/").filter(Boolean);
  const b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => "..");
  const rel = [...up, ...b.slice(i)].join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** `spec` (relative, `/`-separated) resolved against the file `fromFile`. */
export function resolvePath(fromFile: string, spec: string): string {
  const parts = dirname(fromFile).split("/");
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

/** Whether `path` exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Size of the file at `path` in bytes. */
export function fileSize(path: string): number {
  return Deno.statSync(path).size;
}

/** Size of the file at `path` once gzipped, in bytes. */
export async function gzipSize(path: string): Promise<number> {
  const stream = (await Deno.open(path)).readable.pipeThrough(new CompressionStream("gzip"));
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

/** `bytes` as whole KiB, for logs. */
export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

/** Run a command to its end (SIGKILL after `timeoutMs`, 10 min by default). */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; quiet?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 600_000);
  const out = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  return { code: out.code, stdout, stderr };
}

/** {@linkcode run}, throwing with its output when it exits other than 0. */
export async function runChecked(
  what: string,
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** The package specifier of a `deno.json#exports` subpath (`.` → `meshmeet`). */
export function exportPath(subpath: string): string {
  return subpath === "." ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.replace(/^\.\//, "")}`;
}
