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
 * @module
 */
import ts from "typescript";
import * as esbuild from "esbuild";

const ROOT = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const OUT = `${ROOT}/npm`;
const ARTIFACTS = `${ROOT}/.artifacts`;
/** Node versions the package supports and is tested on. */
export const NODE_VERSIONS: readonly string[] = ["22", "24"];
/** Package name on npm. */
export const PACKAGE_NAME = "meshmeet";

interface DenoJson {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

const denoJson: DenoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));

// ---- small helpers ------------------------------------------------------------------

function log(message: string): void {
  console.log(`[build_npm ${(performance.now() / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function relative(fromDir: string, to: string): string {
  const a = fromDir.split("/").filter(Boolean);
  const b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => "..");
  const rel = [...up, ...b.slice(i)].join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

function resolvePath(fromFile: string, spec: string): string {
  const parts = dirname(fromFile).split("/");
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function fileSize(path: string): number {
  return Deno.statSync(path).size;
}

async function gzipSize(path: string): Promise<number> {
  const stream = (await Deno.open(path)).readable.pipeThrough(new CompressionStream("gzip"));
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

async function run(
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

async function runChecked(
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

// ---- specifier mapping ----------------------------------------------------------------

/** An npm package reference parsed from an `npm:` specifier. */
interface NpmRef {
  name: string;
  version: string;
  subpath: string;
}

function parseNpm(specifier: string): NpmRef {
  let rest = specifier.replace(/^npm:\/?/, "");
  let name: string;
  if (rest.startsWith("@")) {
    const slash = rest.indexOf("/");
    const next = rest.indexOf("/", slash + 1);
    name = next < 0 ? rest : rest.slice(0, next);
    rest = next < 0 ? "" : rest.slice(next + 1);
  } else {
    const slash = rest.indexOf("/");
    name = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? "" : rest.slice(slash + 1);
  }
  const at = name.lastIndexOf("@");
  if (at <= 0) throw new Error(`npm specifier without a version: ${specifier}`);
  return { name: name.slice(0, at), version: name.slice(at + 1), subpath: rest };
}

/** What a specifier maps to. */
type Target =
  | { kind: "local"; path: string }
  | { kind: "npm"; ref: NpmRef }
  | { kind: "node"; specifier: string };

function mapSpecifier(spec: string, fromFile: string): Target {
  if (spec.startsWith("./") || spec.startsWith("../")) {
    return { kind: "local", path: resolvePath(fromFile, spec) };
  }
  if (spec.startsWith("node:")) return { kind: "node", specifier: spec };
  if (spec.startsWith("npm:")) return { kind: "npm", ref: parseNpm(spec) };
  const imports = denoJson.imports;
  let value = imports[spec];
  if (value === undefined) {
    const prefix = Object.keys(imports).filter((k) => k.endsWith("/") && spec.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    if (prefix !== undefined) value = imports[prefix] + spec.slice(prefix.length);
  }
  if (value === undefined) {
    // Deno lets `pkg/sub` through when `pkg` maps to an npm package.
    const pkg = Object.keys(imports).filter((k) =>
      spec.startsWith(`${k}/`) && imports[k].startsWith("npm:") &&
      parseNpm(imports[k]).subpath === ""
    ).sort((a, b) =>
      b.length - a.length
    )[0];
    if (pkg !== undefined) value = imports[pkg] + spec.slice(pkg.length);
  }
  if (value === undefined) {
    throw new Error(`${fromFile}: "${spec}" is not in deno.json#imports`);
  }
  if (value.startsWith("npm:")) return { kind: "npm", ref: parseNpm(value) };
  if (value.startsWith("./") || value.startsWith("../")) {
    return { kind: "local", path: resolvePath(`${ROOT}/deno.json`, value) };
  }
  throw new Error(`${fromFile}: "${spec}" maps to "${value}", which npm cannot install`);
}

/** Runtime-specific module `src/runtime/x.ts` → its variant for `flavor`, if one exists. */
function variantOf(path: string, flavor: "node" | "browser"): string | undefined {
  const m = path.match(/^(.*\/src\/runtime\/[^/.]+)\.ts$/);
  if (!m) return undefined;
  const candidate = `${m[1]}.${flavor}.ts`;
  return exists(candidate) ? candidate : undefined;
}

/** A compiled project: which files, how their imports are rewritten, what they depend on. */
interface Graph {
  files: Set<string>;
  /** Original source path → source text with rewritten specifiers. */
  texts: Map<string, string>;
  dependencies: Map<string, string>;
  /** Emitted Node module → browser module (both paths relative to OUT, `./esm/...`). */
  browserMap: Map<string, string>;
}

/**
 * Walk the module graph from `entries` and rewrite every import specifier in place:
 * local `.ts` → `.js` (with runtime variants swapped for Node), bare → npm package name.
 * `selfImports` maps local entry files to package specifiers (used for tests, which must
 * import the package rather than its sources).
 */
function buildGraph(
  entries: string[],
  options: { selfImports?: Map<string, string>; allowedLocalRoots: string[] },
): Graph {
  const graph: Graph = {
    files: new Set(),
    texts: new Map(),
    dependencies: new Map(),
    browserMap: new Map(),
  };
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    if (file.endsWith(".json")) {
      // JSON modules (`with { type: "json" }`). deno.json is trimmed to its public fields so
      // the import map and tasks stay out of the package.
      const json = JSON.parse(Deno.readTextFileSync(file));
      const text = file === `${ROOT}/deno.json`
        ? { name: json.name, version: json.version, license: json.license, exports: json.exports }
        : json;
      graph.texts.set(file, JSON.stringify(text, null, 2) + "\n");
      continue;
    }
    const text = Deno.readTextFileSync(file);
    const info = ts.preProcessFile(text, true, true);
    const edits: { start: number; end: number; replacement: string }[] = [];
    for (const imported of info.importedFiles) {
      const spec = imported.fileName;
      const start = imported.pos + 1;
      if (text.slice(start, start + spec.length) !== spec) {
        throw new Error(`${file}: cannot locate import "${spec}"`);
      }
      const target = mapSpecifier(spec, file);
      let replacement: string;
      if (target.kind === "node") {
        replacement = target.specifier;
      } else if (target.kind === "npm") {
        const { name, version, subpath } = target.ref;
        const known = graph.dependencies.get(name);
        if (known !== undefined && known !== version) {
          throw new Error(`${name} is imported at two versions: ${known} and ${version}`);
        }
        graph.dependencies.set(name, version);
        replacement = subpath ? `${name}/${subpath}` : name;
      } else {
        const self = options.selfImports?.get(target.path);
        if (self !== undefined) {
          replacement = self;
        } else {
          const json = target.path.endsWith(".json");
          if (!json && !options.allowedLocalRoots.some((r) => target.path.startsWith(r))) {
            throw new Error(
              `${file} imports ${target.path}, outside ${options.allowedLocalRoots.join(", ")}` +
                (options.selfImports ? " (tests must import the package through its exports)" : ""),
            );
          }
          let path = target.path;
          const nodeVariant = variantOf(path, "node");
          const browserVariant = variantOf(path, "browser");
          if (nodeVariant) path = nodeVariant;
          if (!exists(path)) throw new Error(`${file}: import "${spec}" not found (${path})`);
          queue.push(path);
          if (browserVariant) {
            queue.push(browserVariant);
            graph.browserMap.set(
              `./esm/${relative(ROOT, path).slice(2).replace(/\.ts$/, ".js")}`,
              `./esm/${relative(ROOT, browserVariant).slice(2).replace(/\.ts$/, ".js")}`,
            );
          }
          replacement = json ? spec : relative(dirname(file), path).replace(/\.ts$/, ".js");
        }
      }
      edits.push({ start, end: start + spec.length, replacement });
    }
    let rewritten = text;
    for (const edit of edits.sort((a, b) => b.start - a.start)) {
      rewritten = rewritten.slice(0, edit.start) + edit.replacement + rewritten.slice(edit.end);
    }
    graph.texts.set(file, rewritten);
  }
  return graph;
}

// ---- compiling ------------------------------------------------------------------------

/** Types Deno has and the package's TypeScript settings lack (type-only, no runtime shim). */
const AMBIENT = `${ROOT}/__build_npm_ambient.d.ts`;
const AMBIENT_TEXT = `interface ImportMeta { /** Deno, Node >= 24.2 */ readonly main?: boolean }\n`;

function compilerOptions(outDir: string, rootDir: string, declaration: boolean) {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.esnext.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts", "lib.dom.asynciterable.d.ts"],
    types: ["node"],
    typeRoots: [`${ROOT}/node_modules/@types`],
    strict: true,
    declaration,
    sourceMap: true,
    inlineSources: true,
    outDir,
    rootDir,
    skipLibCheck: true,
    isolatedModules: true,
    resolveJsonModule: true,
    useDefineForClassFields: true,
    newLine: ts.NewLineKind.LineFeed,
    noEmitOnError: true,
  } satisfies ts.CompilerOptions;
}

function compile(
  graph: Graph,
  outDir: string,
  rootDir: string,
  options: { declaration: boolean; selfTypes?: Map<string, string> },
): void {
  const compilerOpts = compilerOptions(outDir, rootDir, options.declaration);
  const host = ts.createCompilerHost(compilerOpts, true);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => {
    if (fileName === AMBIENT) return AMBIENT_TEXT;
    return graph.texts.get(fileName) ?? readFile(fileName);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === AMBIENT || fileExists(fileName);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = fileName === AMBIENT ? AMBIENT_TEXT : graph.texts.get(fileName);
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, opts) =>
    literals.map((literal) => {
      const typesFile = options.selfTypes?.get(literal.text);
      if (typesFile !== undefined) {
        return {
          resolvedModule: {
            resolvedFileName: typesFile,
            extension: ts.Extension.Dts,
            isExternalLibraryImport: true,
          },
        };
      }
      return ts.resolveModuleName(literal.text, containingFile, opts, host);
    });
  const program = ts.createProgram([...graph.files, AMBIENT], compilerOpts, host);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  const emitted = program.emit();
  diagnostics.push(...emitted.diagnostics);
  if (diagnostics.length > 0) {
    throw new Error(
      "TypeScript reported errors for the Node build:\n" +
        ts.formatDiagnosticsWithColorAndContext(diagnostics, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => ROOT,
          getNewLine: () => "\n",
        }),
    );
  }
  // Source maps: point at the repository's files (sources are inlined for installs).
  for (const entry of walk(outDir)) {
    if (!entry.endsWith(".js.map")) continue;
    const map = JSON.parse(Deno.readTextFileSync(entry));
    map.sources = map.sources.map((s: string) =>
      relative(dirname(entry), resolvePath(entry, s)).replace(/^\.\//, "")
    );
    Deno.writeTextFileSync(entry, JSON.stringify(map));
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}

// ---- the package ----------------------------------------------------------------------

/** Result of {@linkcode emit}. */
export interface EmitResult {
  /** Files compiled into `npm/esm`. */
  files: number;
  /** npm dependencies and versions. */
  dependencies: Record<string, string>;
  /** Size of `npm/browser/meshmeet.js`, and gzipped. */
  bundle: { bytes: number; gzipBytes: number };
}

function exportPath(subpath: string): string {
  return subpath === "." ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.replace(/^\.\//, "")}`;
}

/**
 * Emit `npm/`: ESM + types + source maps, package.json, README, LICENSE, bin, the browser
 * bundle and the compiled tests.
 *
 * @returns What was emitted.
 */
export async function emit(): Promise<EmitResult> {
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  Deno.mkdirSync(`${OUT}/esm`, { recursive: true });
  const entries = Object.entries(denoJson.exports).map(([subpath, file]) => ({
    subpath,
    file: resolvePath(`${ROOT}/deno.json`, file),
  }));
  const graph = buildGraph(entries.map((e) => e.file), {
    allowedLocalRoots: [`${ROOT}/src/`, `${ROOT}/mod.ts`],
  });
  for (const e of entries) {
    if (!e.file.startsWith(`${ROOT}/src/`) && e.file !== `${ROOT}/mod.ts`) {
      throw new Error(`export ${e.subpath} points outside src/: ${e.file}`);
    }
  }
  log(`compiling ${graph.files.size} modules (tsc ${ts.version})`);
  compile(graph, `${OUT}/esm`, ROOT, { declaration: true });

  const js = (file: string) => `./esm/${relative(ROOT, file).slice(2).replace(/\.ts$/, ".js")}`;
  const exportsField: Record<string, unknown> = {};
  for (const e of entries) {
    exportsField[e.subpath] = {
      types: js(e.file).replace(/\.js$/, ".d.ts"),
      default: js(e.file),
    };
  }
  exportsField["./browser"] = { types: "./esm/mod.d.ts", default: "./browser/meshmeet.js" };
  exportsField["./package.json"] = "./package.json";
  const bin: Record<string, string> = {};
  const cli = entries.find((e) => e.subpath === "./cli");
  if (cli) {
    Deno.mkdirSync(`${OUT}/bin`);
    const cliJs = js(cli.file).replace(/^\.\//, "../");
    const processJs = `../esm/src/runtime/process.node.js`;
    if (!exists(`${OUT}/esm/src/runtime/process.node.js`)) {
      throw new Error("the CLI needs src/runtime/process.node.ts");
    }
    Deno.writeTextFileSync(
      `${OUT}/bin/meshmeet.js`,
      `#!/usr/bin/env node\n// The meshmeet CLI on Node (generated by build_npm.ts).\n` +
        `import { main } from "${cliJs}";\nimport { args, exit } from "${processJs}";\n\n` +
        `exit(await main(args()));\n`,
    );
    Deno.chmodSync(`${OUT}/bin/meshmeet.js`, 0o755);
    bin[PACKAGE_NAME] = "./bin/meshmeet.js";
  }
  const dependencies = Object.fromEntries(
    [...graph.dependencies.entries()].sort(([a], [b]) => a.localeCompare(b)),
  );
  const pkg = {
    name: PACKAGE_NAME,
    version: denoJson.version,
    description:
      "Meetings whose participants share nothing but an invitation code: Kademlia DHT discovery, " +
      "direct encrypted WebRTC, for Node, Deno and browsers.",
    license: denoJson.license ?? "MIT",
    type: "module",
    engines: { node: ">=22" },
    main: "./esm/mod.js",
    types: "./esm/mod.d.ts",
    exports: exportsField,
    browser: Object.fromEntries(graph.browserMap),
    bin,
    files: ["esm", "browser", "bin", "README.md", "LICENSE"],
    keywords: ["libp2p", "webrtc", "dht", "p2p", "meeting", "deno"],
    dependencies,
  };
  Deno.writeTextFileSync(`${OUT}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  Deno.copyFileSync(`${ROOT}/README.md`, `${OUT}/README.md`);
  Deno.copyFileSync(`${ROOT}/LICENSE`, `${OUT}/LICENSE`);

  const bundle = await bundleForBrowsers();
  const testFiles = compileTests(entries);
  log(
    `emitted ${graph.files.size} modules, ${testFiles} test modules, bundle ${kib(bundle.bytes)}`,
  );
  return { files: graph.files.size, dependencies, bundle };
}

/**
 * Bundle the package for browsers: esbuild from `npm/esm/mod.js` with the browser
 * conditions, which follows the package's `browser` field (runtime variants) and those of
 * its dependencies (e.g. `@libp2p/webrtc` uses the browser's RTCPeerConnection).
 */
async function bundleForBrowsers(): Promise<{ bytes: number; gzipBytes: number }> {
  const outfile = `${OUT}/browser/meshmeet.js`;
  const result = await esbuild.build({
    entryPoints: [`${OUT}/esm/mod.js`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome120", "firefox120", "safari17"],
    minify: true,
    sourcemap: true,
    sourcesContent: false, // keeps the package small; the esm/ maps inline their sources
    outfile,
    metafile: true,
    logLevel: "silent",
    nodePaths: [`${ROOT}/node_modules`],
    banner: { js: `/* meshmeet ${denoJson.version} for browsers (MIT). */` },
  });
  await esbuild.stop();
  const inputs = Object.keys(result.metafile.inputs);
  const forbidden = inputs.filter((i) =>
    /node-datachannel|@roamhq\/wrtc|@libp2p\/tcp\/dist\/src\/tcp\.js|runtime\/webrtc\.js$|stun_client\.js$/
      .test(i)
  );
  if (forbidden.length > 0) {
    throw new Error(`the browser bundle contains Node-only modules: ${forbidden.join(", ")}`);
  }
  return { bytes: fileSize(outfile), gzipBytes: await gzipSize(outfile) };
}

/** Compile the contract suite for Node into `npm/test/`, importing the package by name. */
function compileTests(entries: { subpath: string; file: string }[]): number {
  const self = new Map(entries.map((e) => [e.file, exportPath(e.subpath)]));
  const selfTypes = new Map(
    entries.map((e) => [
      exportPath(e.subpath),
      `${OUT}/esm/${relative(ROOT, e.file).slice(2).replace(/\.ts$/, ".d.ts")}`,
    ]),
  );
  const testEntries = [...Deno.readDirSync(`${ROOT}/tests/contract`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
    .map((e) => `${ROOT}/tests/contract/${e.name}`);
  const graph = buildGraph(testEntries, {
    selfImports: self,
    allowedLocalRoots: [`${ROOT}/tests/contract/`, `${ROOT}/tests/_std/`],
  });
  compile(graph, `${OUT}/test`, `${ROOT}/tests`, { declaration: false, selfTypes });
  return graph.files.size;
}

// ---- Node ------------------------------------------------------------------------------

const nodeBinaries = new Map<string, string>();

/**
 * Path of a Node binary of the given major version, from the npm registry's `node`
 * package (via `npx`, cached after the first call).
 *
 * @param major Major version, e.g. "22".
 * @returns Absolute path of the `node` executable.
 */
export async function nodeBinary(major: string): Promise<string> {
  const known = nodeBinaries.get(major);
  if (known) return known;
  const out = await runChecked(`npx node@${major}`, "npx", [
    "-y",
    `node@${major}`,
    "-p",
    "process.execPath",
  ], { timeoutMs: 300_000 });
  const path = out.trim().split("\n").pop()!;
  nodeBinaries.set(major, path);
  return path;
}

/**
 * `npm pack` the package and install the tarball into a fresh temporary Node project
 * (dependencies from the npm registry), with the compiled tests beside it.
 *
 * @returns The project directory and the tarball.
 */
async function packAndInstall(): Promise<{ project: string; tarball: string; size: number }> {
  Deno.mkdirSync(`${ARTIFACTS}/npm`, { recursive: true });
  const packed = JSON.parse(
    await runChecked("npm pack", "npm", [
      "pack",
      "--json",
      "--pack-destination",
      `${ARTIFACTS}/npm`,
    ], { cwd: OUT }),
  );
  const tarball = `${ARTIFACTS}/npm/${packed[0].filename}`;
  const size = fileSize(tarball);
  log(`npm pack: ${packed[0].filename}, ${kib(size)}, ${packed[0].entryCount} files`);
  const project = await Deno.makeTempDir({ prefix: "meshmeet-npm-" });
  Deno.writeTextFileSync(
    `${project}/package.json`,
    JSON.stringify({ name: "meshmeet-smoke", private: true, type: "module" }, null, 2),
  );
  const t = performance.now();
  await runChecked("npm install <tarball>", "npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    tarball,
  ], { cwd: project, timeoutMs: 600_000 });
  log(`installed the tarball into ${project} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await runChecked("copy tests", "cp", ["-r", `${OUT}/test`, `${project}/test`]);
  Deno.copyFileSync(`${ROOT}/examples/node_peer.mjs`, `${project}/node_peer.mjs`);
  return { project, tarball, size };
}

/**
 * Run the contract suite on one Node version in the installed project.
 *
 * @param project Directory from {@linkcode packAndInstall}.
 * @param major Node major version.
 * @returns The runner's summary line.
 */
async function contractOnNode(project: string, major: string): Promise<string> {
  const node = await nodeBinary(major);
  const t = performance.now();
  const r = await run(node, [
    "--test",
    "--test-reporter=spec",
    "--test-concurrency=1",
    `test/contract/node_runner.js`,
  ], {
    cwd: project,
    env: {
      ...Deno.env.toObject(),
      MESHMEET_CONTRACT_REPORT: `${ARTIFACTS}/contract-node${major}.json`,
    },
    timeoutMs: 900_000,
  });
  const output = r.stdout + r.stderr;
  console.log(output.trimEnd().split("\n").map((l) => `  node ${major} | ${l}`).join("\n"));
  if (r.code !== 0) throw new Error(`the contract suite failed on Node ${major} (exit ${r.code})`);
  const pass = output.match(/ℹ pass (\d+)/)?.[1];
  const fail = output.match(/ℹ fail (\d+)/)?.[1];
  const skipped = output.match(/ℹ skipped (\d+)/)?.[1];
  if (pass === undefined || Number(pass) === 0) {
    throw new Error(`no contract test ran on Node ${major}`);
  }
  if (Number(skipped ?? 0) > 0) {
    throw new Error(`${skipped} contract test(s) skipped on Node ${major}`);
  }
  const leak = output.includes("# LEAK:")
    ? " (the process did not exit by itself, see the LEAK line)"
    : "";
  const line = `Node ${major}: ${pass} passed, ${fail ?? 0} failed in ${
    ((performance.now() - t) / 1000).toFixed(1)
  } s${leak}`;
  log(line);
  return line;
}

/**
 * Every `exports` entry of the installed package loads on Node, and the `meshmeet` bin
 * runs (`meshmeet code` prints an invitation code).
 *
 * @param project Directory from {@linkcode packAndInstall}.
 * @param major Node major version.
 */
async function exportsOnNode(project: string, major: string): Promise<void> {
  const node = await nodeBinary(major);
  const pkg = JSON.parse(Deno.readTextFileSync(`${OUT}/package.json`));
  const specifiers = Object.keys(pkg.exports).filter((k) =>
    k !== "./package.json" && k !== "./browser"
  )
    .map(exportPath);
  const script = `for (const s of ${JSON.stringify(specifiers)}) {
    const m = await import(s);
    if (Object.keys(m).length === 0) throw new Error(s + " exports nothing");
  }
  console.log("ok");`;
  await runChecked(`importing ${specifiers.join(", ")} on Node ${major}`, node, [
    "--input-type=module",
    "-e",
    script,
  ], { cwd: project, timeoutMs: 60_000 });
  const code = (await runChecked(`meshmeet code on Node ${major}`, node, [
    `node_modules/.bin/${PACKAGE_NAME}`,
    "code",
  ], { cwd: project, timeoutMs: 60_000 })).trim();
  if (!/^[a-z]+(-[a-z]+){4}-\d{4}$/.test(code)) {
    throw new Error(`meshmeet code on Node ${major} printed ${JSON.stringify(code)}`);
  }
  log(`Node ${major}: ${specifiers.join(", ")} load; bin \`meshmeet code\` → ${code}`);
}

/**
 * The example `examples/node_peer.mjs`, run from the installed tarball on Node, joins a
 * meeting together with a Deno peer (this process, from the sources); each side sends an
 * acknowledged message to the other.
 *
 * @param project Directory from {@linkcode packAndInstall}.
 * @param major Node major version.
 */
async function nodeMeetsDeno(project: string, major: string): Promise<Record<string, unknown>> {
  const mod = await import("./mod.ts");
  const node = await nodeBinary(major);
  const boot = await mod.startBootstrapNode({
    listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
  });
  const code = mod.generateInvitationCode();
  let deno: Awaited<ReturnType<typeof mod.joinMeeting>> | undefined;
  try {
    deno = await mod.joinMeeting(code, {
      name: "Deno",
      bootstrap: boot.addresses,
      rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
    });
    const received: string[] = [];
    let acked = false;
    // Deno answers Node's greeting (Node listens before it sends, so nothing is missed).
    deno.addEventListener("message", (e) => {
      if (e.detail.text) received.push(`${e.detail.name}: ${e.detail.text}`);
      deno!.send(e.detail.from, `hello from Deno ${Deno.version.deno}`).then(
        () => acked = true,
        () => {},
      );
    });
    const r = await run(node, [
      "node_peer.mjs",
      "--code",
      code,
      "--name",
      `Node ${major}`,
      "--bootstrap",
      boot.addresses.find((a) => a.includes("/ws/"))!,
      "--bind-address",
      "127.0.0.1",
      "--json",
    ], { cwd: project, timeoutMs: 120_000 });
    const lines = r.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1] || "{}");
    const deadline = Date.now() + 5000;
    while (!acked && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const ok = r.code === 0 && summary.ok === true && acked &&
      received.some((m) => m.startsWith(`Node ${major}: hello from Node`));
    if (!ok) {
      throw new Error(
        `examples/node_peer.mjs on Node ${major} did not meet the Deno peer: exit ${r.code}, ` +
          `acked by Node: ${acked}, Deno received: ${
            JSON.stringify(received)
          }\n${r.stdout}\n${r.stderr}`,
      );
    }
    log(
      `node_peer.mjs (Node ${major}, from the tarball) ⇄ Deno: ${lines.slice(0, -1).join(" | ")}`,
    );
    return summary;
  } finally {
    await deno?.leave();
    await boot.stop();
  }
}

// ---- main ------------------------------------------------------------------------------

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
