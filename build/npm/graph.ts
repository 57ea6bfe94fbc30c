/**
 * The module graph of the npm build: which files, and every import specifier rewritten for
 * Node (local `.ts` → `.js` with runtime variants swapped, bare names → npm packages through
 * `deno.json#imports`).
 *
 * @module
 */
import ts from "typescript";
import { denoJson, dirname, exists, relative, resolvePath, ROOT } from "./_common.ts";

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
export interface Graph {
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
export function buildGraph(
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
