/**
 * Builds the npm package `meshmeet` from the Deno sources (dnt's job, without dnt, which
 * JSR-only and unreachable here).
 *
 * Not built yet: this is tracked by the "Everywhere: the npm build on Node" issue. Running
 * it says so and exits with code 1 rather than pretending to produce a package.
 *
 * @module
 */
console.error(
  "build_npm.ts: the npm build is not implemented yet (see README.md, Status). " +
    "Use the Deno module for now.",
);
Deno.exit(1);
