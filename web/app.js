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
  if (!res.ok) {
    // The body goes with the error (a 409 names the key that exists).
    throw Object.assign(new Error(data.error ?? `HTTP ${res.status}`), {
      status: res.status,
      data,
    });
  }
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

// --- stats and chart ------------------------------------------------------

/** @type {number[]} */
let history = [];

/** @param {any} s */
function renderStats(s) {
  $("stat-ops").textContent = num(s.opsPerSec);
  $("stat-clients").textContent = num(s.clients);
  $("stat-keys").textContent = num(s.keys);
  renderKeyspace(s);
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
  if (s.pubsub) renderPubsub(s.pubsub);
}

// --- pub/sub and monitor ------------------------------------------------------

/** @param {any} p the pub/sub numbers of /api/stats */
function renderPubsub(p) {
  $("pubsub-channels").textContent = num(p.channels);
  $("pubsub-patterns").textContent = num(p.patterns);
  $("pubsub-shard").textContent = num(p.shardChannels);
  const body = $("channels-body");
  const rows = /** @type {any[]} */ (p.list).map((c) => {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.className = "mono pre";
    name.textContent = escaped(c.channel);
    const n = document.createElement("td");
    n.className = "num";
    n.textContent = num(c.subscribers);
    tr.append(name, n);
    return tr;
  });
  body.replaceChildren(...rows);
  $("channels-wrap").hidden = rows.length === 0;
  $("channels-empty").hidden = rows.length !== 0;
  $("channels-more").hidden = p.channels <= rows.length;
  $("channels-more").textContent = `The ${num(rows.length)} busiest of ${
    num(p.channels)
  } channels.`;
}

/** Lines the monitor view keeps (the oldest go first). */
const MONITOR_LINES = 500;
/** @type {EventSource | null} */
let monitor = null;

/** @param {string} text @param {string} [cls] */
function monitorWrite(text, cls) {
  const out = $("monitor-output");
  const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
  const line = document.createElement("span");
  if (cls) line.className = cls;
  line.textContent = `${text}\n`;
  out.append(line);
  while (out.childElementCount > MONITOR_LINES) out.firstElementChild?.remove();
  if (atEnd) out.scrollTop = out.scrollHeight;
}

/** @param {boolean} on @param {string} state */
function monitorState(on, state) {
  $("monitor-state").textContent = state;
  $("monitor-state").classList.toggle("on", on);
  $("monitor-toggle").textContent = on ? "Stop monitor" : "Start monitor";
}

function stopMonitor() {
  monitor?.close();
  monitor = null;
  monitorState(false, "stopped");
}

function startMonitor() {
  monitor?.close();
  monitorState(true, "starting…");
  const source = new EventSource("/api/monitor");
  monitor = source;
  source.onopen = () => monitorState(true, "monitoring");
  source.onmessage = (e) => {
    const { lines, dropped } = JSON.parse(e.data);
    if (dropped > 0) {
      monitorWrite(`… ${num(dropped)} lines dropped (too many)`, "dropped");
    }
    for (const line of lines) monitorWrite(line);
  };
  source.onerror = () => {
    // Refused (too many tails, logged out) or the server went away.
    if (monitor !== source) return;
    source.close();
    monitor = null;
    monitorState(false, "stopped (connection lost)");
  };
}

/** A round number at or above `n` (1, 2 or 5 times a power of ten).
 * @param {number} n */
function niceCeil(n) {
  const p = 10 ** Math.floor(Math.log10(Math.max(1, n)));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** The chart's axes: ops/sec at the top, middle and bottom, and the clock
 * time of each minute mark (the right edge is now).
 * @param {number} max */
function renderAxes(max) {
  $("chart-y-max").textContent = num(max);
  $("chart-y-mid").textContent = num(max / 2);
  const now = Date.now();
  const labels = [];
  for (let m = 5; m >= 0; m--) {
    const span = document.createElement("span");
    span.textContent = m === 0
      ? "now"
      : new Date(now - m * 60_000).toLocaleTimeString([], {
        hour: "2-digit",
        minute: "2-digit",
      });
    labels.push(span);
  }
  $("chart-x").replaceChildren(...labels);
}

function renderChart() {
  const points = history.slice(-300);
  const max = niceCeil(Math.max(10, ...points));
  renderAxes(max);
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

// --- databases ------------------------------------------------------------

/** The database the page shows (its keys, and where the console runs). */
let db = 0;
/** How many databases the server has (`databases`). */
let databases = 1;
/** Keys and expiring keys of the databases that hold some, by number. */
let keyspace =
  /** @type {Map<number, {db: number, keys: number, expires: number}>} */ (
    new Map()
  );
/** Up to this many databases, the picker lists them all; beyond, it lists
 * the first 16, those that hold keys and the selected one, and a number
 * field opens any other. */
const LISTED_MAX = 256;

/** `path` with the selected database in its query string.
 * @param {string} path */
function inDb(path) {
  return `${path}${path.includes("?") ? "&" : "?"}db=${db}`;
}

/** The database the URL names (`#db=3`, or `?db=3`), or null.
 * @returns {number | null} */
function dbFromUrl() {
  const hash = /^#db=(\d{1,10})$/.exec(location.hash);
  const raw = hash?.[1] ?? new URLSearchParams(location.search).get("db");
  if (raw === null || raw === undefined || !/^\d{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n < databases ? n : null;
}

/** Keeps the selection in the URL (`#db=3`; none for database 0), so a
 * reload or a bookmark opens the same database. */
function dbToUrl() {
  const q = new URLSearchParams(location.search);
  q.delete("db");
  const search = q.size > 0 ? `?${q}` : "";
  const hash = db === 0 ? "" : `#db=${db}`;
  const url = `${location.pathname}${search}${hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) {
    globalThis.history.replaceState(null, "", url);
  }
}

/** @param {number} n */
function dbLabel(n) {
  const k = keyspace.get(n);
  return k === undefined
    ? `db ${n}`
    : `db ${n} · ${num(k.keys)} ${k.keys === 1 ? "key" : "keys"}`;
}

/** The numbers the picker lists. */
function listedDbs() {
  if (databases <= LISTED_MAX) {
    return Array.from({ length: databases }, (_, i) => i);
  }
  const set = new Set([...Array(16).keys(), ...keyspace.keys(), db]);
  return [...set].sort((a, b) => a - b);
}

/** The picker's options: every database, the non-empty ones with their
 * key counts. Options are changed in place (not rebuilt) while the list
 * stays the same, so an open picker is left alone. */
function renderPicker() {
  const picker = /** @type {HTMLSelectElement} */ ($("db-picker"));
  const listed = listedDbs();
  const same = picker.options.length === listed.length &&
    listed.every((n, i) => picker.options[i].value === String(n));
  if (!same) {
    picker.replaceChildren(...listed.map((n) => {
      const o = document.createElement("option");
      o.value = String(n);
      return o;
    }));
  }
  for (const o of picker.options) {
    const text = dbLabel(Number(o.value));
    if (o.textContent !== text) o.textContent = text;
    o.classList.toggle("has-keys", keyspace.has(Number(o.value)));
  }
  if (picker.value !== String(db)) picker.value = String(db);
  $("db-go").hidden = databases <= LISTED_MAX;
  input("db-number").max = String(databases - 1);
  input("db-number").placeholder = `0–${databases - 1}`;
}

/** The parts of a keyspace button: its name, keys and expiring keys.
 * @param {HTMLElement} b @param {{db: number, keys: number, expires: number}} k */
function fillChip(b, k) {
  const [name, count, exp] = /** @type {HTMLElement[]} */ ([...b.children]);
  name.textContent = `db${k.db}`;
  count.textContent = `keys=${num(k.keys)}`;
  exp.textContent = `expires=${num(k.expires)}`;
  b.setAttribute(
    "aria-label",
    `Database ${k.db}: ${num(k.keys)} ${k.keys === 1 ? "key" : "keys"}, ${
      num(k.expires)
    } with a TTL`,
  );
  b.setAttribute("aria-pressed", String(k.db === db));
}

/** The keyspace (INFO keyspace) of the stats: a button per database that
 * holds keys (pressing one shows it), and the picker's counts. The
 * buttons are changed in place while the same databases hold keys, so
 * focus stays where it is.
 * @param {any} s */
function renderKeyspace(s) {
  if (typeof s.databases === "number") databases = s.databases;
  keyspace = new Map(
    (s.keyspace ?? []).map((/** @type {any} */ k) => [k.db, k]),
  );
  const list = $("keyspace");
  const dbs = [...keyspace.keys()].join(",");
  if (list.dataset.dbs !== dbs) {
    list.dataset.dbs = dbs;
    list.replaceChildren(...[...keyspace.keys()].map((n) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "db-chip";
      b.dataset.db = String(n);
      const name = document.createElement("span");
      name.className = "db-chip-name";
      const count = document.createElement("span");
      const exp = document.createElement("span");
      exp.className = "db-chip-exp";
      b.append(name, count, exp);
      b.addEventListener("click", () => selectDb(n));
      li.append(b);
      return li;
    }));
  }
  for (const b of list.querySelectorAll("button")) {
    const el = /** @type {HTMLElement} */ (b);
    const k = keyspace.get(Number(el.dataset.db));
    if (k !== undefined) fillChip(el, k);
  }
  $("keyspace-empty").hidden = keyspace.size > 0;
  $("db-section").hidden = databases <= 1;
  renderPicker();
  keyTotal = keyspace.get(db)?.keys ?? 0;
  renderKeyCount();
}

/** The header and prompt that name the selected database. */
function renderDb() {
  $("keys-db").hidden = databases <= 1;
  $("keys-db").textContent = `db ${db}`;
  $("console-prompt").textContent = `${serverName}${
    db === 0 ? "" : `[${db}]`
  }>`;
  for (const b of $("keyspace").querySelectorAll("button")) {
    b.setAttribute(
      "aria-pressed",
      String(/** @type {HTMLElement} */ (b).dataset.db === String(db)),
    );
  }
  renderPicker();
}

/** Shows database `n`: its keys, the console runs in it, the URL names it.
 * @param {number} n */
function selectDb(n) {
  if (!Number.isInteger(n) || n < 0 || n >= databases) return;
  const changed = n !== db;
  db = n;
  dbToUrl();
  renderDb();
  if (!changed) return;
  keyTotal = keyspace.get(db)?.keys ?? 0;
  showGone("Choose a key, or create one.");
  $("detail-title").textContent = "Key";
  $("detail-error").textContent = "";
  loadKeys(true);
}

/** "host:port" for the console prompt. */
let serverName = "";

// --- keys -------------------------------------------------------------------

let cursor = 0;
/** Keys visited by the scan so far, and the keyspace's size (DBSIZE). */
let scanned = 0;
let keyTotal = 0;
/** Bumped to stop (or supersede) a scan in progress. */
let scanRun = 0;
let pattern = "*";
let typeFilter = "";
/** @type {string | null} */
let currentId = null;
/** The open key's type, and the page of it shown. */
let currentType = "string";
/** @type {string | number | null} */
let pageCursor = null;
/** @type {string | number | null} */
let pageNext = null;
let pageNo = 1;

/** What the elements of each type are called: [one, many]. */
const UNITS = /** @type {Record<string, [string, string]>} */ ({
  hash: ["field", "fields"],
  list: ["item", "items"],
  set: ["member", "members"],
  zset: ["member", "members"],
  stream: ["entry", "entries"],
});

/** @param {string} type @param {number} n */
function sizeOf(type, n) {
  const u = UNITS[type];
  return u ? `${num(n)} ${n === 1 ? u[0] : u[1]}` : sizeText(n);
}

/**
 * A value or element as text: its text when it is UTF-8, else its bytes
 * as escapes (\xNN, printable ASCII as is), with the length when cut.
 * @param {{ text?: string | null, hex?: string, size?: number }} b
 */
function escaped(b) {
  let s;
  if (typeof b.text === "string") s = b.text;
  else {
    s = "";
    for (let i = 0; i + 1 < (b.hex ?? "").length; i += 2) {
      const c = parseInt(/** @type {string} */ (b.hex).slice(i, i + 2), 16);
      s += c === 0x5c
        ? "\\\\"
        : c >= 0x20 && c < 0x7f
        ? String.fromCharCode(c)
        : `\\x${b.hex?.slice(i, i + 2)}`;
    }
  }
  return b.size === undefined ? s : `${s}… (${sizeText(b.size)} in all)`;
}

/** Editable on the page: UTF-8 text sent whole.
 * @param {{ text?: string | null, size?: number }} b */
const editable = (b) => typeof b.text === "string" && b.size === undefined;

/** An element as the API takes it back (its text, or its hex).
 * @param {{ text?: string | null, hex?: string }} b */
const wire = (b) => typeof b.text === "string" ? b.text : { hex: b.hex };

/** Keys shown per page. */
const KEY_PAGE = 50;

/** How many keys there are, and how many the list shows. */
function renderKeyCount() {
  const shown = $("key-list").children.length;
  const filtered = pattern !== "*" || typeFilter !== "";
  $("keys-count").textContent = filtered
    ? `${num(shown)} shown of ${num(keyTotal)} ${
      keyTotal === 1 ? "key" : "keys"
    }`
    : `${num(keyTotal)} ${keyTotal === 1 ? "key" : "keys"}`;
}

/**
 * Shows the next page of keys: asks the server again and again (each
 * request scans for a short while) until the page is full or the scan has
 * gone through every key, showing how far it got.
 * @param {boolean} reset
 */
async function loadKeys(reset) {
  const run = ++scanRun;
  if (reset) {
    cursor = 0;
    scanned = 0;
    $("key-list").replaceChildren();
  }
  $("more-keys").hidden = true;
  $("keys-empty").hidden = true;
  let found = 0;
  try {
    do {
      const q = new URLSearchParams({
        pattern,
        cursor: String(cursor),
        count: String(KEY_PAGE),
      });
      if (typeFilter) q.set("type", typeFilter);
      const page = await api(inDb(`/api/keys?${q}`));
      if (run !== scanRun) return; // stopped, or a new filter
      cursor = page.cursor;
      scanned = cursor === 0 ? page.total : scanned + page.scanned;
      keyTotal = page.total;
      for (const k of page.keys) $("key-list").append(keyItem(k));
      found += page.keys.length;
      if (cursor !== 0 && found < KEY_PAGE) {
        $("keys-progress").textContent = `Scanning… ${
          num(Math.min(scanned, keyTotal))
        } of ${num(keyTotal)} keys looked at`;
        $("stop-scan").hidden = false;
      }
      renderKeyCount();
    } while (cursor !== 0 && found < KEY_PAGE);
    $("keys-progress").textContent = cursor === 0 && pattern !== "*"
      ? `All ${num(keyTotal)} keys looked at.`
      : "";
  } finally {
    if (run === scanRun) {
      $("stop-scan").hidden = true;
      $("more-keys").hidden = cursor === 0;
      $("keys-empty").hidden = cursor !== 0 ||
        $("key-list").children.length > 0;
    }
  }
}

function stopScan() {
  scanRun++;
  $("stop-scan").hidden = true;
  $("more-keys").hidden = cursor === 0;
  $("keys-progress").textContent = `Stopped after ${
    num(Math.min(scanned, keyTotal))
  } of ${num(keyTotal)} keys: "Load more" goes on.`;
}

/** @param {any} k */
function keyItem(k) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.id = k.key.id;
  const name = document.createElement("span");
  name.className = "key-name";
  name.textContent = escaped(k.key);
  const badge = document.createElement("span");
  badge.className = `badge t-${k.type}`;
  badge.textContent = k.type;
  const meta = document.createElement("span");
  meta.className = "key-meta";
  meta.textContent = `${sizeOf(k.type, k.size)} · ${ttlText(k.ttl)}`;
  b.append(name, badge, meta);
  b.setAttribute(
    "aria-label",
    `${escaped(k.key)}, ${k.type}, ${sizeOf(k.type, k.size)}, ${
      ttlText(k.ttl)
    }`,
  );
  b.addEventListener("click", () => openKey(k.key.id));
  li.append(b);
  return li;
}

/** @param {string} id @param {string | number | null} [at] */
async function openKey(id, at = null) {
  $("detail-error").textContent = "";
  $("element-error").textContent = "";
  const from = db;
  try {
    const q = new URLSearchParams({ id });
    if (at !== null) q.set("cursor", String(at));
    const k = await api(inDb(`/api/key?${q}`));
    if (from !== db) return; // another database was picked meanwhile
    if (currentId !== id) pageNo = 1;
    currentId = id;
    currentType = k.type;
    pageCursor = at;
    pageNext = k.next;
    for (const b of $("key-list").querySelectorAll("button")) {
      b.setAttribute(
        "aria-current",
        String(/** @type {HTMLElement} */ (b).dataset.id === id),
      );
    }
    $("detail-empty").hidden = true;
    $("detail-title").textContent = "Key";
    $("detail-meta").textContent = `${k.type} · ${sizeOf(k.type, k.size)} · ${
      ttlText(k.ttl)
    }${k.encoding ? ` · ${k.encoding}` : ""}`;
    if (k.type === "string") showString(k);
    else showContainer(k);
  } catch (e) {
    $("detail-error").textContent = String(/** @type {Error} */ (e).message);
  }
}

/**
 * JSON text laid out with indentation, or null when `text` is not a JSON
 * object or array, or when laying it out could change it (numbers or
 * escapes JSON.parse would not give back as written).
 * @param {string} text
 */
function prettyJson(text) {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return null;
  let parsed;
  try {
    parsed = JSON.parse(t);
  } catch {
    return null;
  }
  // Lossless only if the text, without the spaces between tokens, is what
  // JSON.stringify writes.
  const compact = t.replace(/("(?:[^"\\]|\\.)*")|\s+/g, (_, str) => str ?? "");
  if (compact !== JSON.stringify(parsed)) return null;
  const pretty = JSON.stringify(parsed, null, 2);
  return pretty === text ? null : pretty;
}

/** The open string's value as stored, and as shown when it was laid out
 * as JSON (then saving it unedited saves the stored text). */
let storedText = "";
/** @type {string | null} */
let shownJson = null;

/** @param {any} k */
function showString(k) {
  $("container-view").hidden = true;
  $("detail-form").hidden = false;
  $("new-type-row").hidden = true;
  $("first-element").hidden = true;
  $("string-fields").hidden = false;
  const key = input("detail-key");
  key.value = escaped(k.key);
  key.readOnly = true;
  const value = /** @type {HTMLTextAreaElement} */ ($("detail-value"));
  const binary = typeof k.value.text !== "string";
  const partial = k.offset > 0 || k.next !== null;
  storedText = escaped(k.value);
  shownJson = binary || partial ? null : prettyJson(k.value.text);
  value.value = shownJson ?? storedText;
  value.readOnly = binary || partial;
  $("detail-binary").hidden = !binary && !partial && shownJson === null;
  $("detail-binary").textContent = binary
    ? "This value is not UTF-8 text: shown with \\x escapes, read-only here."
    : partial
    ? "This value is large: shown in parts, read-only here."
    : shownJson !== null
    ? "JSON, laid out for reading: saved as stored unless you edit it."
    : "";
  $("string-pager").hidden = !partial;
  $("string-range").textContent = partial
    ? `bytes ${num(k.offset)}–${num((k.next ?? k.total) - 1)} of ${
      num(k.total)
    }`
    : "";
  /** @type {HTMLButtonElement} */ ($("string-next")).disabled =
    k.next === null;
  input("detail-ttl").value = k.ttl > 0 ? String(k.ttl) : "";
  $("delete-key").hidden = false;
  // A value that cannot be edited here has no Save; its TTL has its own.
  $("save-key").hidden = value.readOnly;
  $("string-ttl").hidden = !value.readOnly;
}

/**
 * The inputs for one element of a type, in `box` (ids start with
 * `prefix`): returns a function that reads them.
 * @param {HTMLElement} box @param {string} type @param {string} prefix
 */
function elementInputs(box, type, prefix) {
  box.replaceChildren();
  /** @param {string} name @param {string} label @param {string} [kind] */
  const add = (name, label, kind = "input") => {
    const l = document.createElement("label");
    l.htmlFor = `${prefix}-${name}`;
    l.textContent = label;
    const el = /** @type {HTMLInputElement} */ (document.createElement(kind));
    el.id = `${prefix}-${name}`;
    el.name = name;
    el.autocomplete = "off";
    el.spellcheck = false;
    if (kind === "textarea") {
      /** @type {HTMLTextAreaElement} */ (/** @type {unknown} */ (el)).rows = 3;
    }
    box.append(l, el);
    return el;
  };
  /** @type {Record<string, HTMLInputElement>} */
  const f = {};
  if (type === "hash") {
    f.field = add("field", "Field");
    f.value = add("value", "Value", "textarea");
  } else if (type === "list") {
    f.index = add("index", "Index (to set an item)");
    f.index.type = "number";
    f.index.min = "0";
    f.value = add("value", "Item", "textarea");
  } else if (type === "set") {
    f.member = add("member", "Member");
  } else if (type === "zset") {
    f.member = add("member", "Member");
    f.score = add("score", "Score");
    f.score.inputMode = "decimal";
  } else if (type === "stream") {
    f.entry = add("entry", "Entry ID (* for a new one)");
    f.entry.value = "*";
    f.fields = add("fields", "Fields (one field=value a line)", "textarea");
  }
  return f;
}

/** @type {Record<string, HTMLInputElement>} */
let elementForm = {};

/** The body of an element change from the form's inputs.
 * @param {Record<string, HTMLInputElement>} f @param {string} action */
function elementBody(f, action) {
  /** @type {Record<string, unknown>} */
  const body = { action };
  if (f.field) body.field = f.field.value;
  if (f.value) body.value = f.value.value;
  if (f.member) body.member = f.member.value;
  if (f.score) {
    if (f.score.value.trim() === "") throw new Error("Give a score.");
    body.score = f.score.value.trim();
  }
  if (action === "lset") {
    const i = Number(f.index.value);
    if (f.index.value === "" || !Number.isInteger(i) || i < 0) {
      throw new Error("Give the index of the item to set (0 or more).");
    }
    body.index = i;
  }
  if (f.fields) {
    const pairs = [];
    for (const line of f.fields.value.split("\n")) {
      if (line.trim() === "") continue;
      const eq = line.indexOf("=");
      if (eq < 1) throw new Error(`Write each field as field=value: ${line}`);
      pairs.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
    if (pairs.length === 0) throw new Error("Give at least one field=value.");
    body.fields = pairs;
    body.entry = f.entry.value.trim() || "*";
  }
  return body;
}

/** What the element form's buttons do, by type: [label, action]. */
const ACTIONS = /** @type {Record<string, [string, string][]>} */ ({
  hash: [["Set field", "hset"]],
  list: [["Push to tail", "rpush"], ["Push to head", "lpush"], [
    "Set item",
    "lset",
  ]],
  set: [["Add member", "sadd"]],
  zset: [["Set score", "zadd"]],
  stream: [["Add entry", "xadd"]],
});

/** @param {string} action */
async function changeElement(action) {
  $("element-error").textContent = "";
  try {
    const body = elementBody(elementForm, action);
    body.id = currentId;
    const r = await api(inDb("/api/element"), { method: "POST", body });
    await afterChange(r);
    for (const [name, el] of Object.entries(elementForm)) {
      if (name !== "entry") el.value = "";
    }
  } catch (err) {
    $("element-error").textContent = String(
      /** @type {Error} */ (err).message,
    );
  }
}

/** @param {Record<string, unknown>} body */
async function removeElement(body) {
  $("element-error").textContent = "";
  try {
    const r = await api(inDb("/api/element"), {
      method: "POST",
      body: { ...body, id: currentId },
    });
    await afterChange(r);
  } catch (err) {
    $("element-error").textContent = String(
      /** @type {Error} */ (err).message,
    );
  }
}

/** @param {any} r */
async function afterChange(r) {
  if (r.key === null) {
    // The last element went, and the key with it.
    showGone("The key is gone: its last element was removed.");
    await loadKeys(true);
    return;
  }
  await openKey(r.key.key.id, pageCursor);
  $("detail-meta").textContent = `Saved · ${$("detail-meta").textContent}`;
}

/** @param {string} message */
function showGone(message) {
  currentId = null;
  $("detail-form").hidden = true;
  $("container-view").hidden = true;
  $("detail-empty").hidden = false;
  $("detail-empty").textContent = message;
  $("detail-meta").textContent = "";
}

/** @param {string} text @param {string} [cls] */
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

/**
 * @param {string} label @param {string} name @param {() => void} onClick
 * @param {boolean} [enabled]
 */
function rowButton(label, name, onClick, enabled = true) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = label === "Remove" ? "link danger-link" : "link";
  b.textContent = label;
  b.setAttribute("aria-label", `${label} ${name}`);
  b.disabled = !enabled;
  if (!enabled) b.title = "Not UTF-8 text, or too long: use the console";
  b.addEventListener("click", onClick);
  return b;
}

/** @param {any} k */
function showContainer(k) {
  $("detail-form").hidden = true;
  $("container-view").hidden = false;
  $("container-key").textContent = escaped(k.key);
  const type = k.type;
  const heads = {
    hash: ["Field", "Value", ""],
    list: ["Index", "Item", ""],
    set: ["Member", ""],
    zset: ["Rank", "Member", "Score", ""],
    stream: ["ID", "Fields", ""],
  }[/** @type {"hash"} */ (type)];
  $("items-head").replaceChildren(...heads.map((h) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    if (h === "") {
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = "Actions";
      th.append(hidden);
    }
    return th;
  }));
  $("items-caption").textContent = `${UNITS[type][1]} of ${escaped(k.key)}`;
  const rows = [];
  for (const item of k.items) {
    const tr = document.createElement("tr");
    const actions = document.createElement("td");
    actions.className = "row-actions";
    if (type === "hash") {
      const f = escaped(item.field);
      tr.append(cell(f, "mono"), cell(escaped(item.value), "mono"));
      actions.append(
        rowButton("Edit", f, () => {
          elementForm.field.value = item.field.text;
          elementForm.value.value = item.value.text;
          elementForm.value.focus();
        }, editable(item.field) && editable(item.value)),
        rowButton(
          "Remove",
          f,
          () => removeElement({ action: "hdel", field: wire(item.field) }),
          item.field.size === undefined,
        ),
      );
    } else if (type === "list") {
      const name = `item ${item.index}`;
      tr.append(cell(String(item.index), "num"), cell(escaped(item.value)));
      tr.lastElementChild?.classList.add("mono");
      actions.append(
        rowButton("Edit", name, () => {
          elementForm.index.value = String(item.index);
          elementForm.value.value = item.value.text;
          elementForm.value.focus();
        }, editable(item.value)),
        rowButton(
          "Remove",
          name,
          () =>
            removeElement({
              action: "lrem",
              index: item.index,
              value: wire(item.value),
            }),
          item.value.size === undefined,
        ),
      );
    } else if (type === "set") {
      const m = escaped(item.member);
      tr.append(cell(m, "mono"));
      actions.append(
        rowButton(
          "Remove",
          m,
          () => removeElement({ action: "srem", member: wire(item.member) }),
          item.member.size === undefined,
        ),
      );
    } else if (type === "zset") {
      const m = escaped(item.member);
      tr.append(
        cell(String(item.rank), "num"),
        cell(m, "mono"),
        cell(item.score, "num mono"),
      );
      actions.append(
        rowButton("Edit", m, () => {
          elementForm.member.value = item.member.text;
          elementForm.score.value = item.score;
          elementForm.score.focus();
        }, editable(item.member)),
        rowButton(
          "Remove",
          m,
          () => removeElement({ action: "zrem", member: wire(item.member) }),
          item.member.size === undefined,
        ),
      );
    } else if (type === "stream") {
      const fields = item.fields.map(
        (/** @type {any[]} */ [f, v]) => `${escaped(f)}=${escaped(v)}`,
      ).join("\n");
      tr.append(cell(item.id, "mono"), cell(fields, "mono pre"));
      actions.append(
        rowButton(
          "Remove",
          `entry ${item.id}`,
          () => removeElement({ action: "xdel", entry: item.id }),
        ),
      );
    }
    tr.append(actions);
    rows.push(tr);
  }
  $("items-body").replaceChildren(...rows);
  $("items-empty").hidden = rows.length > 0;
  // Paging.
  const first = k.items[0];
  $("page-info").textContent = type === "list" || type === "zset"
    ? k.items.length === 0
      ? `none of ${num(k.size)}`
      : `${num(first.index ?? first.rank)}–${
        num((first.index ?? first.rank) + k.items.length - 1)
      } of ${num(k.size)} (from 0)`
    : `page ${num(pageNo)}${type === "stream" ? ", newest first" : ""}`;
  /** @type {HTMLButtonElement} */ ($("page-next")).disabled = k.next === null;
  /** @type {HTMLButtonElement} */ ($("page-first")).disabled =
    pageCursor === null;
  // The form to add or change one (rebuilt when the type changes).
  if ($("element-form").dataset.type !== type) {
    $("element-form").dataset.type = type;
    elementForm = elementInputs($("element-inputs"), type, "el");
    $("element-legend").textContent = type === "stream"
      ? "Add an entry"
      : `Add or change a ${UNITS[type][0]}`;
    $("element-actions").replaceChildren(
      ...ACTIONS[type].map(([label, action], i) => {
        const b = document.createElement("button");
        b.type = i === 0 ? "submit" : "button";
        b.className = i === 0 ? "primary" : "ghost";
        b.textContent = label;
        b.dataset.action = action;
        if (i > 0) b.addEventListener("click", () => changeElement(action));
        return b;
      }),
    );
  }
  input("container-ttl").value = k.ttl > 0 ? String(k.ttl) : "";
}

/** @param {boolean} next */
async function turnPage(next) {
  if (currentId === null) return;
  if (next && pageNext === null) return;
  pageNo = next ? pageNo + 1 : 1;
  await openKey(currentId, next ? pageNext : null);
}

function newKey() {
  currentId = null;
  $("detail-empty").hidden = true;
  $("container-view").hidden = true;
  $("detail-form").hidden = false;
  $("new-type-row").hidden = false;
  /** @type {HTMLSelectElement} */ ($("new-type")).value = "string";
  showNewType();
  const key = input("detail-key");
  key.value = "";
  key.readOnly = false;
  const value = /** @type {HTMLTextAreaElement} */ ($("detail-value"));
  value.value = "";
  value.readOnly = false;
  $("detail-binary").hidden = true;
  $("string-pager").hidden = true;
  input("detail-ttl").value = "";
  $("delete-key").hidden = true;
  $("save-key").hidden = false;
  $("string-ttl").hidden = true;
  storedText = "";
  shownJson = null;
  $("detail-title").textContent = "New key";
  $("detail-meta").textContent = "";
  $("detail-error").textContent = "";
  key.focus();
}

/** @type {Record<string, HTMLInputElement>} */
let firstElement = {};

function showNewType() {
  const type = /** @type {HTMLSelectElement} */ ($("new-type")).value;
  $("string-fields").hidden = type !== "string";
  $("first-element").hidden = type === "string";
  if (type !== "string") {
    firstElement = elementInputs($("first-element-inputs"), type, "first");
    if (firstElement.index) {
      // A new list starts with a push.
      firstElement.index.previousElementSibling?.remove();
      firstElement.index.remove();
      delete firstElement.index;
    }
  }
}

/** The command that creates each type with its first element. */
const CREATE = /** @type {Record<string, string>} */ ({
  hash: "hset",
  list: "rpush",
  set: "sadd",
  zset: "zadd",
  stream: "xadd",
});

/** @param {SubmitEvent} e */
async function saveKey(e) {
  e.preventDefault();
  $("detail-error").textContent = "";
  const type = currentId === null
    ? /** @type {HTMLSelectElement} */ ($("new-type")).value
    : "string";
  if (type !== "string") {
    try {
      const body = elementBody(firstElement, CREATE[type]);
      body.key = input("detail-key").value;
      body.create = true;
      const r = await replacing(
        body,
        () => api(inDb("/api/element"), { method: "POST", body }),
      );
      if (r === null) return;
      await loadKeys(true);
      await openKey(r.key.key.id);
      $("detail-meta").textContent = `Saved · ${$("detail-meta").textContent}`;
    } catch (err) {
      $("detail-error").textContent = String(
        /** @type {Error} */ (err).message,
      );
    }
    return;
  }
  const ttlRaw = input("detail-ttl").value.trim();
  const ttl = ttlRaw === "" ? null : Number(ttlRaw);
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 1)) {
    $("detail-error").textContent =
      "TTL must be a whole number of seconds, 1 or more.";
    return;
  }
  const shown = /** @type {HTMLTextAreaElement} */ ($("detail-value")).value;
  // JSON laid out for reading and not edited: the stored text, unchanged.
  const value = shownJson !== null && shown === shownJson ? storedText : shown;
  /** @type {Record<string, unknown>} */
  const body = { value, ttl };
  if (currentId !== null) body.id = currentId;
  else body.key = input("detail-key").value;
  try {
    const k = await replacing(
      body,
      () => api(inDb("/api/key"), { method: "PUT", body }),
    );
    if (k === null) return;
    await loadKeys(true);
    await openKey(k.key.id);
    $("detail-meta").textContent = `Saved · ${$("detail-meta").textContent}`;
  } catch (err) {
    $("detail-error").textContent = String(/** @type {Error} */ (err).message);
  }
}

/**
 * Sends a new key; when the name is taken, asks before replacing that key
 * (and sends again with `overwrite`). Null when the user said no.
 * @param {Record<string, unknown>} body
 * @param {() => Promise<any>} send
 */
async function replacing(body, send) {
  try {
    return await send();
  } catch (err) {
    const e = /** @type {any} */ (err);
    if (e.status !== 409 || e.data?.exists !== true) throw err;
    const old = e.data.key;
    const what = old ? ` (a ${old.type}, ${sizeOf(old.type, old.size)})` : "";
    if (
      !confirm(
        `The key "${body.key}" exists already${what}. Replace it?`,
      )
    ) {
      $("detail-error").textContent =
        `Not saved: the key "${body.key}" exists already.`;
      return null;
    }
    body.overwrite = true;
    return await send();
  }
}

/** The TTL of a string value that cannot be edited here. */
async function saveStringTtl() {
  const raw = input("detail-ttl").value.trim();
  const ttl = raw === "" ? null : Number(raw);
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 1)) {
    $("detail-error").textContent =
      "TTL must be a whole number of seconds, 1 or more.";
    return;
  }
  if (currentId === null) return;
  try {
    await api(inDb("/api/element"), {
      method: "POST",
      body: { id: currentId, action: "expire", ttl },
    });
    await openKey(currentId);
    $("detail-meta").textContent = `Saved · ${$("detail-meta").textContent}`;
  } catch (err) {
    $("detail-error").textContent = String(/** @type {Error} */ (err).message);
  }
}

/** @param {SubmitEvent} e */
async function saveTtl(e) {
  e.preventDefault();
  const raw = input("container-ttl").value.trim();
  const ttl = raw === "" ? null : Number(raw);
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 1)) {
    $("element-error").textContent =
      "TTL must be a whole number of seconds, 1 or more.";
    return;
  }
  await removeElement({ action: "expire", ttl });
}

async function deleteKey() {
  if (currentId === null) return;
  const name = currentType === "string"
    ? input("detail-key").value
    : $("container-key").textContent;
  if (!confirm(`Delete the key "${name}"? This cannot be undone.`)) return;
  try {
    await api(inDb(`/api/key?id=${encodeURIComponent(currentId)}`), {
      method: "DELETE",
    });
    showGone(`Deleted "${name}".`);
    await loadKeys(true);
  } catch (err) {
    const where = currentType === "string" ? "detail-error" : "element-error";
    $(where).textContent = String(/** @type {Error} */ (err).message);
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
    const r = await api(inDb("/api/command"), {
      method: "POST",
      body: { command },
    });
    consoleWrite(r.output, r.error ? "err" : undefined);
    // SELECT (or RESET, or a transaction with SELECT) moved the console:
    // the picker follows.
    if (typeof r.db === "number" && r.db !== db) selectDb(r.db);
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
  stopMonitor();
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
  serverName = `${session.host}:${session.port}`;
  if (typeof session.databases === "number") databases = session.databases;
  db = dbFromUrl() ?? 0;
  dbToUrl();
  renderDb();
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
          : err instanceof Error
          ? `${err.message[0].toUpperCase()}${err.message.slice(1)}.`
          : String(err);
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("/api/logout", { method: "POST", body: {} }).catch(() => {});
    showLogin();
  });
  $("db-picker").addEventListener(
    "change",
    () =>
      selectDb(
        Number(/** @type {HTMLSelectElement} */ ($("db-picker")).value),
      ),
  );
  $("db-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const raw = input("db-number").value.trim();
    const n = Number(raw);
    if (raw === "" || !Number.isInteger(n) || n < 0 || n >= databases) {
      input("db-number").setCustomValidity(
        `A database number from 0 to ${databases - 1}`,
      );
      input("db-number").reportValidity();
      return;
    }
    input("db-number").setCustomValidity("");
    selectDb(n);
  });
  input("db-number").addEventListener(
    "input",
    () => input("db-number").setCustomValidity(""),
  );
  // The URL edited by hand (or history): show the database it names.
  addEventListener("hashchange", () => {
    const n = dbFromUrl();
    selectDb(n ?? 0);
  });
  $("filter-form").addEventListener("submit", (e) => {
    e.preventDefault();
    pattern = input("filter").value.trim() || "*";
    typeFilter = /** @type {HTMLSelectElement} */ ($("type-filter")).value;
    loadKeys(true);
  });
  $("new-type").addEventListener("change", showNewType);
  $("page-next").addEventListener("click", () => turnPage(true));
  $("page-first").addEventListener("click", () => turnPage(false));
  $("string-next").addEventListener("click", () => turnPage(true));
  $("string-first").addEventListener("click", () => turnPage(false));
  $("element-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const first = $("element-actions").querySelector("button");
    changeElement(/** @type {HTMLElement} */ (first).dataset.action ?? "");
  });
  $("ttl-form").addEventListener(
    "submit",
    (e) => saveTtl(/** @type {SubmitEvent} */ (e)),
  );
  $("delete-container").addEventListener("click", deleteKey);
  $("more-keys").addEventListener("click", () => loadKeys(false));
  $("stop-scan").addEventListener("click", stopScan);
  $("string-ttl").addEventListener("click", saveStringTtl);
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
  $("monitor-toggle").addEventListener(
    "click",
    () => monitor === null ? startMonitor() : stopMonitor(),
  );
  $("monitor-clear").addEventListener(
    "click",
    () => $("monitor-output").replaceChildren(),
  );
}

main().catch((e) => {
  $("server-line").textContent = `error: ${e.message}`;
});
