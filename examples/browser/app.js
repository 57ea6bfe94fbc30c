// The browser example's page logic. It uses meshmeet's browser bundle (`/meshmeet.js`,
// built by build_npm.ts) and the bootstrap list the Hono app serves at /config.json.
// The bundle is served beside this file (from npm/browser/, not in the repository).
const bundleUrl = "./meshmeet.js";
/** @type {typeof import("../../mod.ts")} */
const { generateInvitationCode, joinMeeting } = await import(bundleUrl);

const $ = (id) => document.getElementById(id);
const ui = {
  code: $("code"),
  name: $("name"),
  generate: $("generate"),
  join: $("join"),
  leave: $("leave"),
  status: $("status"),
  participants: $("participants"),
  log: $("log"),
  message: $("message"),
  send: $("send"),
};

/** @type {import("../../mod.ts").Meeting | undefined} */
let meeting;
let refreshTimer;
const config = await fetch("./config.json").then((r) => r.json());

function status(text, isError = false) {
  ui.status.textContent = text;
  ui.status.classList.toggle("error", isError);
}

function logLine(text, cls = "") {
  const div = document.createElement("div");
  div.className = cls;
  div.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  ui.log.append(div);
  ui.log.scrollTop = ui.log.scrollHeight;
  return div;
}

function cell(text, cls = "") {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text;
  return td;
}

function renderParticipants() {
  const list = meeting?.participants ?? [];
  ui.participants.replaceChildren();
  if (list.length === 0) {
    const tr = document.createElement("tr");
    tr.append(cell(meeting ? "Waiting for others to join…" : "Nobody yet.", "empty"));
    tr.firstChild.colSpan = 5;
    ui.participants.append(tr);
    return;
  }
  for (const p of list) {
    const tr = document.createElement("tr");
    tr.dataset.peer = p.peerId;
    tr.dataset.path = p.path ?? "";
    const badge = document.createElement("span");
    badge.className = `badge ${p.path ?? ""}`;
    badge.textContent = p.state === "connected" ? (p.path ?? "?") : p.state;
    const pathCell = document.createElement("td");
    pathCell.append(badge);
    const pair = p.selectedCandidatePair;
    const pairText = pair
      ? `${pair.local.type} ${pair.local.address}:${pair.local.port} ⇄ ` +
        `${pair.remote.type} ${pair.remote.address}:${pair.remote.port}`
      : "—";
    tr.append(
      cell(p.name || p.peerId.slice(-8)),
      pathCell,
      cell(pairText, "mono"),
      cell(p.rtt === undefined ? "—" : `${Math.round(p.rtt)} ms`),
      cell(`${p.connectedAt - p.discoveredAt} ms`),
    );
    ui.participants.append(tr);
  }
}

function setJoined(joined) {
  ui.join.disabled = joined;
  ui.generate.disabled = joined;
  ui.code.disabled = joined;
  ui.name.disabled = joined;
  ui.leave.disabled = !joined;
  ui.message.disabled = !joined;
  ui.send.disabled = !joined;
}

ui.generate.addEventListener("click", () => {
  ui.code.value = generateInvitationCode();
});

ui.join.addEventListener("click", async () => {
  const code = ui.code.value.trim();
  const name = ui.name.value.trim();
  setJoined(true);
  status("Joining: deriving the meeting key, reaching the bootstrap node, looking others up…");
  const started = performance.now();
  try {
    meeting = await joinMeeting(code, {
      name,
      bootstrap: config.bootstrap,
      rtcConfiguration: { iceServers: config.iceServers ?? [] },
    });
  } catch (err) {
    setJoined(false);
    status(err.message, true);
    return;
  }
  const ms = Math.round(performance.now() - started);
  status(
    `In the meeting as ${name || "(no name)"}, joined in ${ms} ms. Peer id …${
      meeting.self.peerId.slice(-8)
    }, topic ${meeting.topicId.slice(0, 12)}…`,
  );
  meeting.addEventListener("peer:join", (e) => {
    logLine(`${e.detail.name} joined (${e.detail.path})`, "sys");
    renderParticipants();
  });
  meeting.addEventListener("peer:leave", (e) => {
    logLine(`${e.detail.name} left (${e.detail.reason})`, "sys");
    renderParticipants();
  });
  meeting.addEventListener("connection:state", renderParticipants);
  meeting.addEventListener("message", (e) => {
    logLine(`${e.detail.name}: ${e.detail.text ?? JSON.stringify(e.detail.data)}`);
  });
  refreshTimer = setInterval(renderParticipants, 1000);
  renderParticipants();
  ui.message.focus();
});

async function send() {
  const text = ui.message.value.trim();
  if (!text || !meeting) return;
  ui.message.value = "";
  const line = logLine(`you: ${text}`, "me");
  const { delivered, failed } = await meeting.broadcast(text);
  line.textContent += delivered.length > 0
    ? `  ✓ acknowledged by ${delivered.length}`
    : "  (nobody to deliver to)";
  if (failed.length > 0) line.textContent += `, ${failed.length} failed`;
  line.dataset.acked = String(delivered.length);
}

ui.send.addEventListener("click", send);
ui.message.addEventListener("keydown", (e) => {
  if (e.key === "Enter") send();
});

ui.leave.addEventListener("click", async () => {
  clearInterval(refreshTimer);
  const m = meeting;
  meeting = undefined;
  await m?.leave();
  setJoined(false);
  renderParticipants();
  status("Left the meeting.");
  logLine("you left", "sys");
});

globalThis.addEventListener("pagehide", () => void meeting?.leave());

// Everything above ran after two awaits (the bundle, /config.json), possibly after the page's
// load event: say when the buttons work (scripts that drive the page wait for it).
document.body.dataset.ready = "1";
