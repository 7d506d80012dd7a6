// @ts-check
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The dashboard page: plain JavaScript, type-checked by `deno check`, served
// as is. Keys and values are always put on the page as text (textContent,
// input values), never as HTML.

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const input = (
  id,
) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>}
 */
async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method ?? "GET",
    headers: options.body === undefined
      ? {}
      : { "content-type": "application/json" },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== "/api/login") {
    showLogin();
    throw new Error(data.error ?? "log in first");
  }
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

// --- formatting ----------------------------------------------------------

/** @param {number} n */
const num = (n) => n.toLocaleString("en-US");

/** @param {number} bytes */
function bytes(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** @param {number} seconds */
function ago(seconds) {
  const d = Math.max(0, Math.floor(Date.now() / 1000 - seconds));
  if (d < 60) return `${d}s ago`;
  if (d < 3600) return `${Math.floor(d / 60)}m ago`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`;
  return `${Math.floor(d / 86400)}d ago`;
}

/** @param {number} ttl */
function ttlText(ttl) {
  if (ttl < 0) return "no expiry";
  if (ttl < 120) return `expires in ${ttl}s`;
  if (ttl < 7200) return `expires in ${Math.round(ttl / 60)}m`;
  return `expires in ${Math.round(ttl / 3600)}h`;
}

/** @param {number} n */
const sizeText = (n) => `${num(n)} ${n === 1 ? "byte" : "bytes"}`;

/** @param {{ text: string | null, hex: string }} b */
const shown = (b) => b.text ?? `hex ${b.hex.replace(/(..)(?=.)/g, "$1 ")}`;

// --- stats and chart ------------------------------------------------------

/** @type {number[]} */
let history = [];

/** @param {any} s */
function renderStats(s) {
  $("stat-ops").textContent = num(s.opsPerSec);
  $("stat-clients").textContent = num(s.clients);
  $("stat-keys").textContent = num(s.keys);
  $("stat-memory").textContent = bytes(s.memory.rss);
  $("stat-hits").textContent = s.hitRatio === null
    ? "–"
    : `${(s.hitRatio * 100).toFixed(1)}%`;
  $("stat-expired").textContent = num(s.expired);
  $("stat-save").textContent = s.bgsaveInProgress
    ? "saving…"
    : `${ago(s.lastSave)}${s.lastBgsaveStatus === "err" ? " (failed)" : ""}`;
  $("stat-aof").textContent = !s.aofEnabled
    ? "off"
    : s.aofRewriteInProgress
    ? "rewriting…"
    : s.aofLastWriteStatus === "ok"
    ? "on, ok"
    : "on, write error";
}

function renderChart() {
  const points = history.slice(-300);
  const max = Math.max(10, ...points);
  const w = 600;
  const h = 120;
  const step = w / 299;
  const offset = (300 - points.length) * step;
  const coords = points.map((v, i) =>
    `${(offset + i * step).toFixed(1)},${
      (h - (v / max) * (h - 6) - 3).toFixed(1)
    }`
  );
  $("chart-line").setAttribute("points", coords.join(" "));
  $("chart-area").setAttribute(
    "d",
    coords.length
      ? `M${offset.toFixed(1)},${h} L${coords.join(" L")} L${w},${h} Z`
      : "",
  );
  const last = points.at(-1) ?? 0;
  $("chart-max").textContent = `peak ${num(Math.max(0, ...points))}/s`;
  $("chart-desc").textContent =
    `Operations per second over the last 5 minutes: now ${num(last)}, peak ${
      num(max)
    }`;
  $("chart").dataset.points = String(points.length);
  $("chart").dataset.last = String(last);
}

/** @type {EventSource | null} */
let events = null;

async function startStats() {
  const s = await api("/api/stats");
  history = s.history ?? [];
  renderStats(s);
  renderChart();
  events?.close();
  events = new EventSource("/api/events");
  events.onopen = () => {
    $("live").textContent = "live";
    $("live").classList.add("on");
  };
  events.onmessage = (e) => {
    const s = JSON.parse(e.data);
    renderStats(s);
    history.push(s.opsPerSec);
    if (history.length > 300) history.shift();
    renderChart();
  };
  events.onerror = () => {
    $("live").textContent = "reconnecting…";
    $("live").classList.remove("on");
  };
}

// --- keys -------------------------------------------------------------------

let cursor = 0;
let pattern = "*";
/** @type {string | null} */
let currentId = null;

/** @param {boolean} reset */
async function loadKeys(reset) {
  if (reset) {
    cursor = 0;
    $("key-list").replaceChildren();
  }
  const q = new URLSearchParams({
    pattern,
    cursor: String(cursor),
    count: "50",
  });
  const page = await api(`/api/keys?${q}`);
  cursor = page.cursor;
  for (const k of page.keys) $("key-list").append(keyItem(k));
  $("more-keys").hidden = cursor === 0;
  $("keys-empty").hidden = $("key-list").children.length > 0;
}

/** @param {any} k */
function keyItem(k) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.id = k.key.id;
  const name = document.createElement("span");
  name.className = "key-name";
  name.textContent = shown(k.key);
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = k.type;
  const meta = document.createElement("span");
  meta.className = "key-meta";
  meta.textContent = `${sizeText(k.size)} · ${ttlText(k.ttl)}`;
  b.append(name, badge, meta);
  b.setAttribute(
    "aria-label",
    `${shown(k.key)}, ${k.type}, ${sizeText(k.size)}, ${ttlText(k.ttl)}`,
  );
  b.addEventListener("click", () => openKey(k.key.id));
  li.append(b);
  return li;
}

/** @param {string} id */
async function openKey(id) {
  $("detail-error").textContent = "";
  try {
    const k = await api(`/api/key?id=${encodeURIComponent(id)}`);
    currentId = id;
    for (const b of $("key-list").querySelectorAll("button")) {
      b.setAttribute(
        "aria-current",
        String(/** @type {HTMLElement} */ (b).dataset.id === id),
      );
    }
    $("detail-empty").hidden = true;
    $("detail-form").hidden = false;
    const key = input("detail-key");
    key.value = shown(k.key);
    key.readOnly = true;
    const value = /** @type {HTMLTextAreaElement} */ ($("detail-value"));
    value.value = shown(k.value);
    const binary = k.value.text === null;
    value.readOnly = binary;
    $("detail-binary").hidden = !binary;
    $("detail-binary").textContent = binary
      ? "This value is not UTF-8 text: shown in hex, read-only here."
      : "";
    input("detail-ttl").value = k.ttl > 0 ? String(k.ttl) : "";
    $("delete-key").hidden = false;
    $("detail-title").textContent = "Key";
    $("detail-meta").textContent = `${k.type} · ${sizeText(k.size)} · ${
      ttlText(k.ttl)
    }`;
  } catch (e) {
    $("detail-error").textContent = String(/** @type {Error} */ (e).message);
  }
}

function newKey() {
  currentId = null;
  $("detail-empty").hidden = true;
  $("detail-form").hidden = false;
  const key = input("detail-key");
  key.value = "";
  key.readOnly = false;
  const value = /** @type {HTMLTextAreaElement} */ ($("detail-value"));
  value.value = "";
  value.readOnly = false;
  $("detail-binary").hidden = true;
  input("detail-ttl").value = "";
  $("delete-key").hidden = true;
  $("detail-title").textContent = "New key";
  $("detail-meta").textContent = "";
  $("detail-error").textContent = "";
  key.focus();
}

/** @param {SubmitEvent} e */
async function saveKey(e) {
  e.preventDefault();
  $("detail-error").textContent = "";
  const ttlRaw = input("detail-ttl").value.trim();
  const ttl = ttlRaw === "" ? null : Number(ttlRaw);
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 1)) {
    $("detail-error").textContent =
      "TTL must be a whole number of seconds, 1 or more.";
    return;
  }
  const value = /** @type {HTMLTextAreaElement} */ ($("detail-value")).value;
  /** @type {Record<string, unknown>} */
  const body = { value, ttl };
  if (currentId !== null) body.id = currentId;
  else body.key = input("detail-key").value;
  try {
    const k = await api("/api/key", { method: "PUT", body });
    await loadKeys(true);
    await openKey(k.key.id);
    $("detail-meta").textContent = `Saved · ${$("detail-meta").textContent}`;
  } catch (err) {
    $("detail-error").textContent = String(/** @type {Error} */ (err).message);
  }
}

async function deleteKey() {
  if (currentId === null) return;
  const name = input("detail-key").value;
  if (!confirm(`Delete the key "${name}"? This cannot be undone.`)) return;
  try {
    await api(`/api/key?id=${encodeURIComponent(currentId)}`, {
      method: "DELETE",
    });
    currentId = null;
    $("detail-form").hidden = true;
    $("detail-empty").hidden = false;
    $("detail-empty").textContent = `Deleted "${name}".`;
    $("detail-meta").textContent = "";
    await loadKeys(true);
  } catch (err) {
    $("detail-error").textContent = String(/** @type {Error} */ (err).message);
  }
}

// --- console ------------------------------------------------------------------

/** @type {string[]} */
const commandHistory = JSON.parse(sessionStorage.getItem("kv-history") ?? "[]");
let historyIndex = commandHistory.length;

/** @param {string} text @param {string} [cls] */
function consoleWrite(text, cls) {
  const span = document.createElement("span");
  if (cls) span.className = cls;
  span.textContent = text;
  $("console-output").append(span);
  $("console-output").scrollTop = $("console-output").scrollHeight;
}

/** @param {SubmitEvent} e */
async function runCommand(e) {
  e.preventDefault();
  const field = input("console-input");
  const command = field.value.trim();
  if (command === "") return;
  field.value = "";
  if (commandHistory.at(-1) !== command) commandHistory.push(command);
  if (commandHistory.length > 100) commandHistory.shift();
  sessionStorage.setItem("kv-history", JSON.stringify(commandHistory));
  historyIndex = commandHistory.length;
  consoleWrite(`> ${command}\n`, "cmd");
  try {
    const r = await api("/api/command", { method: "POST", body: { command } });
    consoleWrite(r.output, r.error ? "err" : undefined);
  } catch (err) {
    consoleWrite(`${/** @type {Error} */ (err).message}\n`, "err");
  }
}

/** @param {KeyboardEvent} e */
function browseHistory(e) {
  if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
  e.preventDefault();
  historyIndex = Math.max(
    0,
    Math.min(
      commandHistory.length,
      historyIndex + (e.key === "ArrowUp" ? -1 : 1),
    ),
  );
  input("console-input").value = commandHistory[historyIndex] ?? "";
}

// --- session ------------------------------------------------------------------

function showLogin() {
  events?.close();
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("live").textContent = "offline";
  $("live").classList.remove("on");
  input("password").focus();
}

/** @param {any} session */
async function showApp(session) {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = !session.passwordRequired;
  $("notice").hidden = session.passwordRequired;
  $("notice").textContent = session.passwordRequired
    ? ""
    : "No password is set: the dashboard is served only because the server listens on loopback.";
  $("console-prompt").textContent = `${session.host}:${session.port}>`;
  if ($("console-output").childElementCount === 0) {
    consoleWrite(
      "Type any command, as in redis-cli; up and down browse history.\n",
      "hint",
    );
  }
  await Promise.all([startStats(), loadKeys(true)]);
}

async function main() {
  const session = await api("/api/session");
  $("server-line").textContent =
    `${session.host}:${session.port} · version ${session.version}`;
  if (session.passwordRequired && !session.authenticated) showLogin();
  else await showApp(session);

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      await api("/api/login", {
        method: "POST",
        body: { password: input("password").value },
      });
      input("password").value = "";
      await showApp(await api("/api/session"));
    } catch (err) {
      $("login-error").textContent =
        err instanceof Error && err.message === "wrong password"
          ? "Wrong password."
          : String(err);
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("/api/logout", { method: "POST", body: {} }).catch(() => {});
    showLogin();
  });
  $("filter-form").addEventListener("submit", (e) => {
    e.preventDefault();
    pattern = input("filter").value.trim() || "*";
    loadKeys(true);
  });
  $("more-keys").addEventListener("click", () => loadKeys(false));
  $("new-key").addEventListener("click", newKey);
  $("detail-form").addEventListener(
    "submit",
    (e) => saveKey(/** @type {SubmitEvent} */ (e)),
  );
  $("delete-key").addEventListener("click", deleteKey);
  $("console-form").addEventListener(
    "submit",
    (e) => runCommand(/** @type {SubmitEvent} */ (e)),
  );
  $("console-input").addEventListener("keydown", browseHistory);
}

main().catch((e) => {
  $("server-line").textContent = `error: ${e.message}`;
});
