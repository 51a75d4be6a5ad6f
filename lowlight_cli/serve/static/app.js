// The lowlight page: drop photos, follow them over Server-Sent Events, compare before/after, adjust, download.
// No timers and no polling: the only open connection is a job's event stream while it runs, so the page
// costs no CPU while idle. Pixels are computed with controls.js (the same formulas as the CLI).
"use strict";

const API = "/api/v1";
const $ = (id) => document.getElementById(id);
const state = {
  token: null, server: null,
  items: [],            // {job, index, name, status, error, done, total, el}
  selected: null,       // item shown in the viewer
  S: null, K: null, hists: null, out: null,   // ImageData: source, base, shown result
  view: { x: 0, y: 0, z: 1, split: 0.5 },
  pending: false,
};
window.lowlight = state;  // for tests and for the curious

// --- token and requests --------------------------------------------------------------------------------
function loadToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) { sessionStorage.setItem("lowlight-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
  state.token = sessionStorage.getItem("lowlight-token");
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (response.status === 401 || response.status === 403) {
    $("token-form").hidden = false;
    throw new Error(response.status === 401 ? "this server needs a token (enter it at the top)" : "wrong token");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response;
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("lowlight-token", state.token);
  $("token-form").hidden = true;
  connect();
});

async function connect() {
  try {
    state.server = await (await api("/models")).json();
    $("server").textContent = `${state.server.loaded.weights} · ${state.server.loaded.backend}`;
  } catch (e) { $("server").textContent = e.message; }
}

// --- dropping photos and following their jobs -------------------------------------------------------------
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); submit([...e.dataTransfer.files]); });
$("pick").addEventListener("change", (e) => { submit([...e.target.files]); e.target.value = ""; });
document.body.addEventListener("dragover", (e) => e.preventDefault());
document.body.addEventListener("drop", (e) => { e.preventDefault(); if (e.target !== drop) submit([...e.dataTransfer.files]); });

async function submit(files) {
  if (!files.length) return;
  const form = new FormData();
  files.forEach((f) => form.append("files", f, f.name));
  const rows = files.map((f) => addRow({ name: f.name, status: "uploading", done: 0, total: 0 }));
  let job;
  try {
    job = await (await api("/jobs", { method: "POST", body: form })).json();
  } catch (e) {
    rows.forEach((r) => Object.assign(r, { status: "failed", error: e.message }));
    rows.forEach(paintRow);
    return;
  }
  job.items.forEach((it, i) => { Object.assign(rows[i], { job: job.id, index: it.index, status: it.status, error: it.error }); paintRow(rows[i]); });
  follow(job.id, rows);
}

// Read the job's Server-Sent Events with fetch (EventSource cannot send the token header).
async function follow(jobId, rows) {
  const byIndex = new Map(rows.map((r) => [r.index, r]));
  let response;
  try { response = await api(`/jobs/${jobId}/events`); } catch (e) { return; }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) onEvent(JSON.parse(data), byIndex);
    }
  }
}

function onEvent(ev, byIndex) {
  if (ev.type === "snapshot" || ev.type === "end") {
    ev.job.items.forEach((it) => { const r = byIndex.get(it.index); if (r) { Object.assign(r, { status: it.status, error: it.error, done: it.progress[0], total: it.progress[1], position: it.position }); paintRow(r); } });
    // an item that finished before the page followed its job is shown as one that finishes while it does
    const first = ev.job.items.map((it) => byIndex.get(it.index)).find((r) => r && r.status === "done");
    if (first && !state.selected) select(first);
    $("download-zip").disabled = !state.items.some((r) => r.status === "done");
    return;
  }
  const r = byIndex.get(ev.item);
  if (!r) return;
  if (ev.type === "queued") { r.position = ev.position; r.status = "queued"; }
  if (ev.type === "started") r.status = "running";
  if (ev.type === "progress") { r.done = ev.done; r.total = ev.total; }
  if (ev.type === "item") {
    r.status = ev.status; r.error = ev.error;
    if (ev.status === "done") {
      $("download-zip").disabled = false;
      if (!state.selected) select(r);
    }
  }
  paintRow(r);
}

function addRow(r) {
  r.el = document.createElement("li");
  r.el.addEventListener("click", () => { if (r.status === "done") select(r); });
  $("queue").appendChild(r.el);
  state.items.push(r);
  paintRow(r);
  return r;
}

function paintRow(r) {
  const label = r.status === "queued" && r.position ? `queued (position ${r.position})`
    : r.status === "running" && r.total > 1 ? `running: tile ${r.done}/${r.total}` : r.status;
  r.el.className = r.status + (state.selected === r ? " selected" : "");
  r.el.innerHTML = "";
  const name = document.createElement("div"); name.textContent = r.name;
  const st = document.createElement("div"); st.className = "state"; st.textContent = r.error || label;
  const bar = document.createElement("progress"); bar.max = 1;
  bar.value = r.status === "done" ? 1 : r.total ? r.done / r.total : 0;
  r.el.append(name, st, bar);
}

// --- the viewer ----------------------------------------------------------------------------------------------
async function fetchImageData(path) {
  const blob = await (await api(path)).blob();
  const bitmap = await createImageBitmap(blob);
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

async function loadBase() {
  const r = state.selected;
  const keep = $("keep-colour").checked;
  const K = await fetchImageData(`/jobs/${r.job}/items/${r.index}/base.png${keep ? "?keep_colour=true" : ""}`);
  if (state.selected !== r) return;
  state.K = K;
  state.hists = channelHistograms(K.data);
  render();
}

async function select(r) {
  const previous = state.selected;
  state.selected = r;
  if (previous) paintRow(previous);
  paintRow(r);
  const S = await fetchImageData(`/jobs/${r.job}/items/${r.index}/source.png`);
  if (state.selected !== r) return;
  state.S = S;
  state.out = new ImageData(S.width, S.height);
  for (const id of ["before", "after"]) { $(id).width = S.width; $(id).height = S.height; }
  $("before").getContext("2d").putImageData(S, 0, 0);
  $("viewer").classList.remove("empty");
  ["download", "copy-cli", "copy-curl"].forEach((id) => ($(id).disabled = false));
  fit();
  await loadBase();
}

function render() {
  if (!state.S || !state.K) return;
  applyControls(state.S, state.K, state.out, settings(), state.hists);
  const ctx = $("after").getContext("2d");
  ctx.putImageData(state.out, 0, 0);
  if ($("clipping").checked) paintClipping(ctx);
  drawHistogram();
  $("after").dataset.rendered = JSON.stringify(settings());  // what the canvas shows now (read by the browser test)
}

function scheduleRender() {  // coalesce slider events into one frame; nothing runs while idle
  if (state.pending) return;
  state.pending = true;
  requestAnimationFrame(() => { state.pending = false; render(); });
}

function paintClipping(ctx) {
  const d = state.out.data, overlay = new ImageData(state.out.width, state.out.height), o = overlay.data;
  for (let i = 0; i < d.length; i += 4) {
    const white = d[i] === 255 || d[i + 1] === 255 || d[i + 2] === 255, black = d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0;
    if (white) { o[i] = 255; o[i + 3] = 255; } else if (black) { o[i + 2] = 255; o[i + 3] = 255; } else {
      o[i] = d[i]; o[i + 1] = d[i + 1]; o[i + 2] = d[i + 2]; o[i + 3] = 255;
    }
  }
  ctx.putImageData(overlay, 0, 0);
}

function drawHistogram() {
  const d = state.out.data, bins = new Float64Array(256);
  let clipHi = 0, clipLo = 0;
  for (let i = 0; i < d.length; i += 4) {
    bins[Math.round(LUMA[0] * d[i] + LUMA[1] * d[i + 1] + LUMA[2] * d[i + 2])]++;
    if (d[i] === 255 || d[i + 1] === 255 || d[i + 2] === 255) clipHi++;
    if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0) clipLo++;
  }
  const c = $("histogram"), ctx = c.getContext("2d"), peak = Math.max(...bins.slice(1, 255)) || 1;
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#c9ccd1";
  for (let v = 0; v < 256; v++) { const h = Math.min(1, bins[v] / peak) * c.height; ctx.fillRect(v, c.height - h, 1, h); }
  const n = d.length / 4;
  let mean = 0; for (let v = 0; v < 256; v++) mean += v * bins[v];
  $("stats").textContent = `mean luma ${(mean / n / 255).toFixed(3)} · clipped white ${(100 * clipHi / n).toFixed(2)}% · black ${(100 * clipLo / n).toFixed(2)}%`;
}

// zoom and pan: one transform for both canvases, so before and after stay in register
function applyView() {
  const v = state.view, t = `translate(${v.x}px, ${v.y}px) scale(${v.z})`;
  $("before").style.transform = t; $("after").style.transform = t;
  const w = $("viewer").clientWidth, x = v.split * w;
  $("after-layer").style.clipPath = `inset(0 0 0 ${x}px)`;
  $("divider").style.left = `${x - 1}px`;
}

function fit() {
  if (!state.S) return;
  const box = $("viewer"), z = Math.min(box.clientWidth / state.S.width, box.clientHeight / state.S.height);
  Object.assign(state.view, { z, x: (box.clientWidth - state.S.width * z) / 2, y: (box.clientHeight - state.S.height * z) / 2 });
  applyView();
}

const viewer = $("viewer");
let drag = null;
viewer.addEventListener("pointerdown", (e) => {
  drag = { divider: e.target.closest("#divider") !== null, x: e.clientX, y: e.clientY, vx: state.view.x, vy: state.view.y };
  viewer.setPointerCapture(e.pointerId);
});
viewer.addEventListener("pointermove", (e) => {
  if (!drag) return;
  if (drag.divider) {
    const box = viewer.getBoundingClientRect();
    state.view.split = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
  } else {
    state.view.x = drag.vx + e.clientX - drag.x; state.view.y = drag.vy + e.clientY - drag.y;
  }
  applyView();
});
viewer.addEventListener("pointerup", () => (drag = null));
viewer.addEventListener("dblclick", fit);
viewer.addEventListener("wheel", (e) => {
  e.preventDefault();
  const box = viewer.getBoundingClientRect(), px = e.clientX - box.left, py = e.clientY - box.top;
  const v = state.view, z = Math.min(32, Math.max(0.02, v.z * Math.exp(-e.deltaY * 0.0015)));
  v.x = px - (px - v.x) * (z / v.z); v.y = py - (py - v.y) * (z / v.z); v.z = z;
  applyView();
}, { passive: false });
window.addEventListener("resize", applyView);

// --- the controls ----------------------------------------------------------------------------------------------
const RANGES = { ev: { min: -3, max: 3, step: 0.1, value: 0.5 }, target: { min: 0.05, max: 0.95, step: 0.01, value: 0.45 } };

function settings() {
  const mode = $("exposure-mode").value, value = Number($("exposure-value").value);
  const exposure = mode === "auto" ? { auto: true } : mode === "ev" ? { ev: value } : mode === "target" ? { target: value } : null;
  return { strength: Number($("strength").value), exposure, keepColour: $("keep-colour").checked };
}

$("strength").addEventListener("input", () => { $("strength-out").value = Number($("strength").value).toFixed(2); scheduleRender(); });
$("exposure-mode").addEventListener("change", () => {
  const mode = $("exposure-mode").value, row = $("exposure-value-row"), input = $("exposure-value");
  row.hidden = !(mode in RANGES);
  if (mode in RANGES) Object.assign(input, RANGES[mode]);
  showExposure();
  scheduleRender();
});
$("exposure-value").addEventListener("input", () => { showExposure(); scheduleRender(); });
function showExposure() { $("exposure-out").value = exposureText(settings().exposure) || ""; }
$("keep-colour").addEventListener("change", () => { if (state.selected) loadBase(); });
$("clipping").addEventListener("change", render);

function query() {
  const s = settings(), p = new URLSearchParams({ strength: String(s.strength), keep_colour: String(s.keepColour) });
  if (s.exposure) p.set("exposure", exposureText(s.exposure));
  return p.toString();
}

async function saveResponse(response, fallback) {
  const blob = await response.blob();
  const m = (response.headers.get("content-disposition") || "").match(/filename="?([^";]+)"?/);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = m ? m[1] : fallback;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);  // one-shot, after the download started
}

$("download").addEventListener("click", async () => {
  const r = state.selected;
  try { await saveResponse(await api(`/jobs/${r.job}/items/${r.index}/result?${query()}`), "enhanced"); }
  catch (e) { $("command").textContent = e.message; }
});
$("download-zip").addEventListener("click", async () => {
  const jobs = [...new Set(state.items.filter((r) => r.status === "done").map((r) => r.job))];
  for (const job of jobs) {
    try { await saveResponse(await api(`/jobs/${job}/zip?${query()}`), "lowlight.zip"); }
    catch (e) { $("command").textContent = e.message; }
  }
});

function shellQuote(s) { return /^[\w@%+=:,./-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }

function commandLine(kind) {
  const s = settings(), name = shellQuote(state.selected.name), args = [];
  if (kind === "cli") {
    args.push("lowlight enhance", name);
    if (s.strength !== 1) args.push("--strength", String(s.strength));
    if (s.exposure) args.push("--exposure", exposureText(s.exposure));
    if (s.keepColour) args.push("--keep-colour");
    // --weights unless the server runs what `lowlight enhance` runs without it (the server says which)
    const w = state.server && state.server.loaded.weights, d = state.server && (state.server.defaults || {}).weights;
    if (w && w !== d) args.push("--weights", shellQuote(w));
    // and the server's other inference options that change the result (the same names as on lowlight serve)
    const loaded = (state.server && state.server.loaded) || {};
    if (loaded.precision) args.push("--precision", loaded.precision);
    if (loaded.fast) args.push("--fast");
    if (loaded.gate === false) args.push("--no-gate");
    return args.join(" ");
  }
  args.push("curl -fsS");
  if (state.token) args.push('-H "Authorization: Bearer $LOWLIGHT_TOKEN"');
  args.push(`-F file=@${name}`, `-F strength=${s.strength}`);
  if (s.exposure) args.push(`-F exposure=${exposureText(s.exposure)}`);
  if (s.keepColour) args.push("-F keep_colour=true");
  args.push("-OJ", location.origin + API + "/enhance");  // -OJ: saved under the server's name, <stem>_enhanced.<ext>
  return args.join(" ");
}

for (const [id, kind] of [["copy-cli", "cli"], ["copy-curl", "curl"]]) {
  $(id).addEventListener("click", async () => {
    const text = commandLine(kind), box = $("command");
    box.textContent = "";
    text.split(" ").forEach((word, i) => {  // line breaks only between words, never inside --an-option
      const span = document.createElement("span");
      span.className = "word"; span.textContent = (i ? " " : "") + word;
      box.appendChild(span);
    });
    try { await navigator.clipboard.writeText(text); box.append("\n(copied)"); } catch (e) { /* shown above */ }
  });
}

loadToken();
connect();
