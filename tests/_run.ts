/**
 * The test runner behind `deno task test`: every test file runs in its own `deno test`
 * process.
 *
 * Why: it once had to (node-datachannel's native threads called into the disposed
 * isolate of a finished test module and killed a shared `deno test` process with
 * SIGSEGV). With libwebrtc (`@roamhq/wrtc`) several WebRTC test files share one process
 * cleanly (LAB.md), but one process per file is kept on purpose: a file that hangs or
 * crashes is named and the others still run, the NAT lab's namespaces and the
 * subprocess tests cannot disturb another file's timing, and every file gets its own
 * line with its time. The files are type-checked together first, in one `deno check` (a
 * type error fails the run before any test), and each `deno test` runs with `--no-check`.
 *
 *     deno run -A tests/_run.ts [path-filter…] [-- deno-test-args…]
 *
 * Prints every file's output, then one closing line `N passed, N failed, N ignored`.
 */
const root = new URL("..", import.meta.url).pathname;
const args = [...Deno.args];
const split = args.indexOf("--");
const extra = split >= 0 ? args.slice(split + 1) : [];
const filters = split >= 0 ? args.slice(0, split) : args;
const skipDirs = (Deno.env.get("MESHMEET_TEST_SKIP") ?? "").split(",").filter(Boolean);

/** The `deno check …` arguments of the `check` task in deno.json, if it has one. */
async function checkTaskArgs(): Promise<string[] | undefined> {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const command = /(?:^|&&)\s*deno (check [^&]+)/.exec(config.tasks?.check ?? "")?.[1];
  return command?.trim().split(/\s+/);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile && /_test\.ts$/.test(entry.name)) yield path;
  }
}

const files: string[] = [];
for await (const file of walk(`${root}tests`)) {
  const relative = file.slice(root.length);
  if (skipDirs.some((d) => relative.startsWith(d))) continue;
  if (filters.length > 0 && !filters.some((f) => relative.includes(f))) continue;
  files.push(relative);
}
files.sort();

let passed = 0;
let failed = 0;
let ignored = 0;
const failedFiles: string[] = [];
const started = performance.now();

// Type-check every selected file in one `deno check` (its cache makes a second run take
// well under a second), then run each file without checking again: checked one by one,
// each file's module graph was checked anew (1.3–3.6 s per file; 10.7 s for all 88 at once).
// CI's test phase went from 1,107 to 802 s. A whole run checks the same roots with the same
// flags as `deno task check` (read from deno.json; a superset of the test files), so after
// that task, as in CI, the check is a cache hit (0.2 s) instead of a second full check (10 s).
if (files.length > 0) {
  const check = await new Deno.Command(Deno.execPath(), {
    args: (filters.length === 0 && await checkTaskArgs()) || ["check", ...files],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(check.stdout) + new TextDecoder().decode(check.stderr);
  if (!check.success) {
    console.log(text.trimEnd());
    console.log(`--- type check of ${files.length} test files failed: no test ran`);
    Deno.exit(1);
  }
  console.log(
    `--- ${files.length} test files type-checked (${
      ((performance.now() - started) / 1000).toFixed(1)
    } s)\n`,
  );
}

for (const file of files) {
  const t = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", ...extra, file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  const status = await child.status;
  // deno-lint-ignore no-control-regex
  const text = (out + err).replace(/\x1b\[[0-9;]*m/g, "");
  const summary =
    /(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/
      .exec(text);
  const p = summary ? Number(summary[1]) : 0;
  const f = summary ? Number(summary[3]) : 0;
  const i = summary?.[4] ? Number(summary[4]) : 0;
  passed += p;
  failed += f;
  ignored += i;
  const crashed = status.code !== 0 && f === 0;
  if (crashed) failed += 1;
  if (status.code !== 0) failedFiles.push(file);
  console.log(text.trimEnd());
  console.log(
    `--- ${file}: ${p} passed, ${f} failed${crashed ? `, exit code ${status.code}` : ""} ` +
      `(${((performance.now() - t) / 1000).toFixed(1)} s)\n`,
  );
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failedFiles.length > 0) console.log(`failed files: ${failedFiles.join(", ")}`);
console.log(`${files.length} test files in ${seconds} s`);
console.log(`${passed} passed, ${failed} failed, ${ignored} skipped`);
Deno.exit(failed > 0 || failedFiles.length > 0 ? 1 : 0);
