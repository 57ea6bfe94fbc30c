import { assertEquals } from "@std/assert";
import { DialLadder, type LadderStep } from "../../src/connect/ladder.ts";

const rung = (s: LadderStep) => s.action === "try" ? s.rung : "give-up";

Deno.test("DialLadder: one direct timeout hands over to TURN; two TURN timeouts to the relay", () => {
  const ladder = new DialLadder({ turn: true, relay: true, maxAttempts: 6, triesPerRung: 3 });
  assertEquals(ladder.rungs, ["direct", "turn", "relay"]);
  assertEquals(rung(ladder.next()), "direct");
  ladder.failed(true);
  const turn = ladder.next();
  assertEquals(turn, { action: "try", rung: "turn", attempt: 2, delayMs: 0 });
  ladder.failed(true);
  const again = ladder.next();
  assertEquals(rung(again), "turn");
  assertEquals(again.action === "try" && again.delayMs, 500);
  ladder.failed(true);
  assertEquals(rung(ladder.next()), "relay");
});

Deno.test("DialLadder: quick failures retry a rung with a growing pause, then move on; attempts are bounded", () => {
  const ladder = new DialLadder({ turn: false, relay: true, maxAttempts: 5, triesPerRung: 3 });
  const steps: string[] = [];
  for (let step = ladder.next(); step.action === "try"; step = ladder.next()) {
    steps.push(`${step.rung}+${step.delayMs}`);
    ladder.failed(false);
  }
  assertEquals(steps, ["direct+0", "direct+500", "direct+1000", "relay+0", "relay+500"]);
  assertEquals(ladder.next(), { action: "give-up", tried: ["direct", "relay"] });
});

Deno.test("DialLadder: without TURN and relay the direct rung is retried until the attempts run out", () => {
  const ladder = new DialLadder({ turn: false, relay: false, maxAttempts: 3, triesPerRung: 3 });
  const seen: string[] = [];
  for (let step = ladder.next(); step.action === "try"; step = ladder.next()) {
    seen.push(rung(step));
    ladder.failed(true);
  }
  assertEquals(seen, ["direct", "direct", "direct"]);
});
