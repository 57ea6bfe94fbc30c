/**
 * Compiling a {@linkcode Graph} with the TypeScript compiler API: ES modules, types and
 * source maps.
 *
 * @module
 */
import ts from "typescript";
import { dirname, relative, resolvePath, ROOT } from "./_common.ts";
import type { Graph } from "./graph.ts";

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

/** Compile `graph` into `outDir` (throws with TypeScript's diagnostics on any error). */
export function compile(
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
