/**
 * The package on Node: Node binaries from the npm registry, the packed tarball installed in a
 * fresh project, its exports and bin, the contract suite, and a Node peer meeting a Deno one.
 *
 * @module
 */
import {
  ARTIFACTS,
  exportPath,
  fileSize,
  kib,
  log,
  OUT,
  PACKAGE_NAME,
  ROOT,
  run,
  runChecked,
} from "./_common.ts";

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
export async function packAndInstall(): Promise<
  { project: string; tarball: string; size: number }
> {
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
export async function contractOnNode(project: string, major: string): Promise<string> {
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
export async function exportsOnNode(project: string, major: string): Promise<void> {
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
export async function nodeMeetsDeno(
  project: string,
  major: string,
): Promise<Record<string, unknown>> {
  const mod = await import("../../mod.ts");
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
