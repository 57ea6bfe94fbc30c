/**
 * `deno task test:browser`: builds what the browser suite needs, then runs
 * `chromium_suite.ts` in a fresh network namespace with only loopback (LAB.md: Chromium
 * otherwise offers every interface's addresses to ICE).
 *
 * Outside the namespace (it needs the npm registry): emit `npm/` with the browser bundle
 * (`build_npm.ts --emit-only`), cache the suite's npm packages (playwright-core), bundle
 * `page_bridge.ts`, and fetch Node 22 and 24 (npx).
 * Inside: `unshare --net`, bring `lo` up, `deno test` the suite.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { nodeBinary } from "../../build_npm.ts";
import { CHROMIUM_PATH } from "./_chromium.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function step(what: string, cmd: string, args: string[]): Promise<void> {
  console.log(`--- ${what}`);
  const { code } = await new Deno.Command(cmd, { args, cwd: ROOT, stdin: "null" }).spawn().status;
  if (code !== 0) throw new Error(`${what} failed (exit ${code})`);
}

try {
  Deno.statSync(CHROMIUM_PATH);
} catch {
  console.error(
    `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium)`,
  );
  Deno.exit(1);
}
await step("build the npm package and the browser bundle", Deno.execPath(), [
  "run",
  "-A",
  "build_npm.ts",
  "--emit-only",
]);
// Inside the namespace nothing can be downloaded: cache the suite's npm packages first.
await step("cache the suite's dependencies", Deno.execPath(), [
  "install",
  "--entrypoint",
  "tests/browser/chromium_suite.ts",
]);
const bridge = `${ROOT}.artifacts/browser/contract-bridge.js`;
await esbuild.build({
  entryPoints: [`${ROOT}tests/browser/page_bridge.ts`],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["chrome120"],
  outfile: bridge,
  logLevel: "warning",
});
await esbuild.stop();
const env = {
  MESHMEET_BRIDGE: bridge,
  MESHMEET_NODE22: await nodeBinary("22"),
  MESHMEET_NODE24: await nodeBinary("24"),
};
console.log(`--- chromium suite in a loopback-only network namespace (${JSON.stringify(env)})`);
const { code } = await new Deno.Command("unshare", {
  args: [
    "--net",
    "sh",
    "-c",
    'ip link set lo up && exec "$@"',
    "sh",
    Deno.execPath(),
    "test",
    "-A",
    "tests/browser/chromium_suite.ts",
  ],
  cwd: ROOT,
  env,
  stdin: "null",
}).spawn().status;
Deno.exit(code);
