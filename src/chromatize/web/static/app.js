// chromatize page, part 2 of 2 (after editor.js): the photo, the edit history, colorizing, the controls.
//
// The page keeps an edit history of states {hints, strokes, reference, model, saturation, renderSize};
// every change is a new state and re-colorizes (POST /api/colorize, the latest request wins). A failed
// request shows one error line and goes back to the last state that colorized: a failed new photo
// leaves no photo, result or download link behind.
"use strict";

const $ = (id) => document.getElementById(id);
const RENDER_SIZES = [128, 192, 256, 320, 384, 512, 768, 1024];
const RECENT_MAX = 10;
const DEBOUNCE_MS = 60;

let limits = {max_upload_bytes: 64 << 20, max_render_size: 1024};
let models = [];
let defaultModel = "";
let photo = null;        // {file, name, width, height, url, pixels: ImageData | null}
let history = [];
let index = -1;
let lastGood = -1;       // history index of the state shown as the result
let inflight = null;     // AbortController of the colorize request in flight
let timer = null;
let resultUrl = null;
let results = 0;
let picker = null;       // {hint: index in state.hints, or -1 for a new one; x, y; pending: hint}
let baseline = null;     // {key, pixels}: the result without hints, for showing what the hints reach
const REACH_SIDE = 320;  // the reach outline is found at this longer side (cheap, and smooth enough)
const REACH_DELTA = 24;  // a pixel counts as changed when its R+G+B moved by more than this
let recent = [];
try { recent = JSON.parse(localStorage.getItem("chromatize.recent") || "[]"); } catch (e) { recent = []; }

// ---------- state and history ----------
const blank = () => ({ hints: [], strokes: [], reference: null, model: defaultModel, saturation: 1, renderSize: "" });
const copy = (s) => ({ ...s, hints: s.hints.map((h) => ({ ...h })), strokes: s.strokes.slice() });
const current = () => history[index];

function change(edit) {
  // Apply edit(copy of the current state) as a new history entry and re-colorize.
  const next = copy(current());
  edit(next);
  history = history.slice(0, index + 1);
  history.push(next);
  index = history.length - 1;
  render();
  schedule();
}

function go(to) {
  if (to < 0 || to >= history.length || !photo) return;
  index = to;
  closePicker();
  render();
  schedule();
}

// ---------- status and errors ----------
function busy(on, text) {
  $("spinner").hidden = !on;
  $("status-text").textContent = text || "";
  $("view").classList.toggle("busy", on);
  document.body.dataset.state = on ? "busy" : "idle";
}

function showError(text) {
  const line = String(text).split("\n")[0];
  $("error").textContent = "Error: " + line;
  $("error").hidden = false;
  document.body.dataset.state = "error";
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function errorOf(response) {
  let text = `HTTP ${response.status}`;
  try { text = (await response.json()).error || text; } catch (e) { /* not JSON */ }
  const retry = response.headers.get("Retry-After");
  return retry ? `${text} (retry in ${retry} s)` : text;
}

// ---------- the photo ----------
function clearPhoto() {
  if (inflight) inflight.abort();
  inflight = null;
  clearTimeout(timer);
  closePicker();
  for (const url of [photo && photo.url, resultUrl]) if (url) URL.revokeObjectURL(url);
  photo = null; resultUrl = null; history = []; index = -1; lastGood = -1; baseline = null;
  clearReach();
  for (const img of [$("before"), $("after"), $("before-side")]) img.removeAttribute("src");
  $("after").hidden = true;
  $("download").hidden = true;
  $("download").removeAttribute("href");
  $("hints").replaceChildren();
  $("workspace").hidden = true;
  $("intro").hidden = false;
  $("info").textContent = "";
}

async function loadPhoto(file) {
  clearError();
  clearPhoto();
  if (!file) return;
  if (file.size > limits.max_upload_bytes) {
    showError(`${file.name}: ${file.size.toLocaleString()} bytes is over the limit of ${limits.max_upload_bytes.toLocaleString()}`);
    return;
  }
  const url = URL.createObjectURL(file);
  photo = { file, name: file.name, url, width: 0, height: 0, pixels: null };
  const stem = file.name.replace(/\.[^.]*$/, "") || "photo";
  $("download").download = stem + ".png";
  $("before").src = url;
  $("before-side").src = url;
  try {
    await $("before").decode();
    photo.width = $("before").naturalWidth;
    photo.height = $("before").naturalHeight;
    const c = document.createElement("canvas");
    c.width = photo.width; c.height = photo.height;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.drawImage($("before"), 0, 0);
    photo.pixels = ctx.getImageData(0, 0, photo.width, photo.height);
  } catch (e) { /* the browser cannot show this format: the server decides */ }
  history = [blank()];
  index = 0;
  $("intro").hidden = true;
  $("workspace").hidden = false;
  sizeCanvas();
  render();
  layout();
  colorize();
}

function layout() {
  // Fit the photo (both panes, side by side) into the stage and most of the window's height.
  if (!photo || !photo.width) return;
  const side = $("side-by-side").checked;
  const avail = $("panes").clientWidth;
  const width = side ? (avail - 12) / 2 : avail;
  const top = $("panes").getBoundingClientRect().top + window.scrollY;
  const height = Math.max(240, window.innerHeight - top - (side ? 40 : 80));  // room for the caption and slider
  const scale = Math.min(width / photo.width, height / photo.height, 4);
  const w = `${Math.floor(photo.width * scale)}px`, h = `${Math.floor(photo.height * scale)}px`;
  for (const el of [$("view"), $("before-side")]) { el.style.width = w; el.style.height = h; }
  for (const el of [$("main-fig"), $("side-before")]) el.style.width = w;
}

function sizeCanvas() {
  const c = $("scribbles");
  c.width = photo.width || 1;
  c.height = photo.height || 1;
}

// ---------- colorizing ----------
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(colorize, DEBOUNCE_MS);
}

const hintEntry = (h) => ({ x: h.x, y: h.y, ...(h.ab ? { ab: h.ab } : { color: h.color }), size: h.size });
const hintsFile = (s) => ({ hints: s.hints.map(hintEntry) });

function drawStrokes(ctx, strokes, outline = 0) {
  // Paint strokes in photo pixels; on screen (outline > 0) each gets a white rim that many pixels wide.
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  const pass = (s, color, width) => {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    if (s.points.length === 1) {
      ctx.arc(s.points[0][0], s.points[0][1], width / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.moveTo(...s.points[0]);
    for (const p of s.points.slice(1)) ctx.lineTo(...p);
    ctx.stroke();
  };
  if (outline) for (const s of strokes) pass(s, "rgba(255, 255, 255, 0.9)", s.size + 2 * outline);
  for (const s of strokes) pass(s, s.color, s.size);
}

const showStrokes = (strokes) => drawStrokes($("scribbles").getContext("2d"), strokes, 1.5 * screenScale());

function scribbleBlob(strokes) {
  const c = document.createElement("canvas");
  c.width = photo.width; c.height = photo.height;
  drawStrokes(c.getContext("2d"), strokes);
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

async function colorize() {
  if (!photo) return;
  if (inflight) inflight.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const at = index;
  const s = current();
  const form = await formFor(s, true);
  if (ctl !== inflight) return;
  busy(true, lastGood < 0 ? `Colorizing ${photo.name}…` : "Re-colorizing…");
  const t0 = performance.now();
  try {
    const r = await fetch("/api/colorize", { method: "POST", body: form, signal: ctl.signal });
    if (!r.ok) throw new Error(await errorOf(r));
    const blob = await r.blob();
    const url = URL.createObjectURL(blob);
    const after = $("after");
    after.src = url;
    await after.decode();
    if (ctl !== inflight) { URL.revokeObjectURL(url); return; }
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = url;
    if (!photo.width) {
      photo.width = after.naturalWidth; photo.height = after.naturalHeight;
      sizeCanvas(); render(); layout();
    }
    after.hidden = false;
    showReach(s, after);
    $("download").href = url;
    $("download").hidden = false;
    lastGood = at;
    clearError();
    const ms = Math.round(performance.now() - t0);
    busy(false, `Colorized ${photo.width}×${photo.height} in ${ms} ms (server ${r.headers.get("X-Work-Ms")} ms)`);
    document.body.dataset.results = String(++results);
    document.body.dataset.lastMs = String(ms);
  } catch (e) {
    if (e.name === "AbortError" || ctl !== inflight) return;
    busy(false, "");
    failed(e.message);
  } finally {
    if (ctl === inflight) inflight = null;
  }
}

async function formFor(s, withHints) {
  // The request of a state: with or without its hints (the reach outline compares the two results).
  const form = new FormData();
  form.append("image", photo.file, photo.name);
  form.append("model", s.model);
  form.append("saturation", String(s.saturation));
  if (s.renderSize) form.append("render_size", s.renderSize);
  if (withHints && s.hints.length) form.append("hints", JSON.stringify(hintsFile(s)));
  if (s.strokes.length && photo.width) form.append("scribbles", await scribbleBlob(s.strokes), "scribbles.png");
  if (s.reference) form.append("reference", s.reference.file, s.reference.file.name);
  return form;
}

// ---------- what the hints reach: a faint outline of the region they changed ----------
const reachKey = (s) => JSON.stringify([s.model, s.saturation, s.renderSize, s.strokes.length,
                                        s.reference && s.reference.file.name]);

function pixelsOf(img) {
  const k = Math.min(1, REACH_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(img.naturalWidth * k));
  c.height = Math.max(1, Math.round(img.naturalHeight * k));
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0, c.width, c.height);
  return ctx.getImageData(0, 0, c.width, c.height);
}

function clearReach() {
  const c = $("reach");
  c.getContext("2d").clearRect(0, 0, c.width, c.height);
  delete document.body.dataset.reach;
}

function drawReach(now, base) {
  // The outline of the pixels whose colour the hints changed (those with an unchanged 4-neighbour).
  const { width: w, height: h } = now;
  if (base.width !== w || base.height !== h) return clearReach();
  const changed = new Uint8Array(w * h);
  let count = 0;
  for (let i = 0; i < w * h; i++) {
    const d = Math.abs(now.data[4 * i] - base.data[4 * i]) + Math.abs(now.data[4 * i + 1] - base.data[4 * i + 1]) +
              Math.abs(now.data[4 * i + 2] - base.data[4 * i + 2]);
    if (d > REACH_DELTA) { changed[i] = 1; count++; }
  }
  const c = $("reach");
  c.width = w; c.height = h;
  const out = c.getContext("2d").createImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!changed[i]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !changed[i - 1] || !changed[i + 1] ||
                   !changed[i - w] || !changed[i + w];
      if (edge) out.data.set([255, 255, 255, 230], 4 * i);
    }
  }
  c.getContext("2d").putImageData(out, 0, 0);
  document.body.dataset.reach = (count / (w * h)).toFixed(4);
}

async function showReach(s, img) {
  // Without hints this result is the baseline; with hints, outline what they changed against it
  // (fetched once, in the background, when the other settings changed since).
  const key = reachKey(s);
  const now = pixelsOf(img);
  if (!s.hints.length) { baseline = { key, pixels: now }; clearReach(); return; }
  if (baseline && baseline.key === key) { drawReach(now, baseline.pixels); return; }
  clearReach();
  try {
    const r = await fetch("/api/colorize", { method: "POST", body: await formFor(s, false) });
    if (!r.ok) return;
    const base = new Image();
    base.src = URL.createObjectURL(await r.blob());
    await base.decode();
    baseline = { key, pixels: pixelsOf(base) };
    URL.revokeObjectURL(base.src);
    if (current() === s) drawReach(now, baseline.pixels);
  } catch (e) { /* the outline is a help, not the result: no error line for it */ }
}

function failed(message) {
  if (lastGood < 0) {        // the photo itself failed: nothing of it stays
    clearPhoto();
    showError(message);
    return;
  }
  history = history.slice(0, lastGood + 1);
  index = lastGood;
  closePicker();
  render();
  showError(`${message} (the last change was undone)`);
}

// ---------- drawing the state ----------
function render() {
  if (!photo) return;
  const s = current();
  const layer = $("hints");
  layer.replaceChildren();
  const w = photo.width || 1, h = photo.height || 1;
  s.hints.forEach((hint, i) => layer.append(marker(hint, i, w, h)));
  if (picker && picker.hint < 0) {
    const m = marker({ ...picker.pending, shown: "#ffffff" }, -1, w, h);
    m.classList.add("pending");
    layer.append(m);
  }
  showStrokes(s.strokes);
  $("model").value = s.model;
  $("saturation").value = s.saturation;
  $("saturation-out").textContent = Number(s.saturation).toFixed(2);
  $("render-size").value = s.renderSize;
  $("ref-thumb").hidden = !s.reference;
  $("ref-remove").hidden = !s.reference;
  if (s.reference) $("ref-thumb").src = s.reference.url;
  $("undo").disabled = index <= 0;
  $("redo").disabled = index >= history.length - 1;
  const extras = [s.hints.length && `${s.hints.length} hint${s.hints.length > 1 ? "s" : ""}`,
                  s.strokes.length && `${s.strokes.length} stroke${s.strokes.length > 1 ? "s" : ""}`,
                  s.reference && "reference"].filter(Boolean);
  $("info").textContent = `${photo.name} · ${w}×${h}` + (extras.length ? " · " + extras.join(", ") : "");
}

function marker(hint, i, w, h) {
  const m = document.createElement("button");
  m.type = "button";
  m.className = "hint" + (picker && picker.hint === i && i >= 0 ? " selected" : "");
  m.dataset.index = String(i);
  m.style.left = `${((hint.x + 0.5) / w) * 100}%`;
  m.style.top = `${((hint.y + 0.5) / h) * 100}%`;
  m.style.width = `${(hint.size / w) * 100}%`;
  m.style.height = `${(hint.size / h) * 100}%`;
  m.style.background = hint.shown || hint.color || "#fff";
  m.setAttribute("aria-label", `Hint ${i + 1} at ${hint.x}, ${hint.y}, colour ${hint.shown || hint.color}, size ${hint.size}. ` +
    "Arrow keys move it, + and - resize, Delete removes, Enter edits.");
  return m;
}

// ---------- controls ----------
function setReference(file) {
  if (!photo || !file) return;
  if (current().reference) { /* the old URL may still be in history: keep it */ }
  change((s) => { s.reference = { file, url: URL.createObjectURL(file) }; });
}

function download(name, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function loadHints(file) {
  clearError();
  let obj;
  try { obj = JSON.parse(await file.text()); } catch (e) { showError(`${file.name}: not a JSON hints file`); return; }
  const list = Array.isArray(obj) ? obj : obj && obj.hints;
  if (!Array.isArray(list) || !list.every((h) => h && typeof h.x === "number" && typeof h.y === "number")) {
    showError(`${file.name}: expected {"hints": [{"x": .., "y": .., "color" or "ab": ..}, ...]}`);
    return;
  }
  const hints = list.map((h) => {
    const hint = { x: h.x, y: h.y, size: h.size === undefined ? 1 : h.size };
    if (h.ab !== undefined) hint.ab = h.ab; else hint.color = h.color;
    refreshShown(hint);
    return hint;
  });
  closePicker();
  change((s) => { s.hints = hints; });
}

function setSlider(v) {
  $("after").style.clipPath = `inset(0 0 0 ${v}%)`;
  $("divider").style.left = `${v}%`;
  $("slider").setAttribute("aria-valuetext", `${v}% before, ${100 - v}% after`);
}

function dropZone(el, onFile) {
  el.addEventListener("dragover", (e) => { e.preventDefault(); e.stopPropagation(); el.classList.add("over"); });
  el.addEventListener("dragleave", () => el.classList.remove("over"));
  el.addEventListener("drop", (e) => {
    e.preventDefault(); e.stopPropagation();
    el.classList.remove("over");
    if (e.dataTransfer.files.length) onFile(e.dataTransfer.files[0]);
  });
}

function wire() {
  $("choose").addEventListener("click", () => $("file").click());
  $("new-photo").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) loadPhoto(e.target.files[0]); e.target.value = ""; });
  dropZone($("intro"), loadPhoto);
  dropZone($("stage"), loadPhoto);
  dropZone($("ref-drop"), setReference);
  $("ref-choose").addEventListener("click", () => $("ref-file").click());
  $("ref-file").addEventListener("change", (e) => { setReference(e.target.files[0]); e.target.value = ""; });
  $("ref-remove").addEventListener("click", () => change((s) => { s.reference = null; }));

  const layer = $("hints");
  layer.addEventListener("pointerdown", onPointerDown);
  layer.addEventListener("pointermove", onPointerMove);
  layer.addEventListener("pointerup", onPointerUp);
  layer.addEventListener("pointercancel", () => { gesture = null; render(); });
  layer.addEventListener("wheel", onWheel, { passive: false });
  layer.addEventListener("keydown", onHintKey);

  $("slider").addEventListener("input", (e) => setSlider(Number(e.target.value)));
  $("side-by-side").addEventListener("change", (e) => {
    $("stage").classList.toggle("mode-side", e.target.checked);
    $("side-before").hidden = !e.target.checked;
    $("after").style.clipPath = e.target.checked ? "none" : `inset(0 0 0 ${$("slider").value}%)`;
    $("main-caption").textContent = e.target.checked ? "After" : "Before | after";
    layout();
  });
  window.addEventListener("resize", layout);
  for (const radio of document.querySelectorAll("input[name=tool]")) {
    radio.addEventListener("change", () => { $("view").className = "tool-" + tool(); closePicker(); });
  }
  $("brush-size").addEventListener("input", (e) => { $("brush-size-out").textContent = e.target.value; });
  $("clear-scribbles").addEventListener("click", () => { if (photo && current().strokes.length) change((s) => { s.strokes = []; }); });
  $("model").addEventListener("change", (e) => change((s) => { s.model = e.target.value; }));
  $("saturation").addEventListener("input", (e) => { $("saturation-out").textContent = Number(e.target.value).toFixed(2); });
  $("saturation").addEventListener("change", (e) => change((s) => { s.saturation = Number(e.target.value); }));
  $("render-size").addEventListener("change", (e) => change((s) => { s.renderSize = e.target.value; }));
  $("undo").addEventListener("click", () => go(index - 1));
  $("redo").addEventListener("click", () => go(index + 1));
  $("reset").addEventListener("click", () => { closePicker(); if (photo) change((s) => Object.assign(s, blank())); });
  $("save-hints").addEventListener("click", () => {
    if (!photo) return;
    download(photo.name.replace(/\.[^.]*$/, "") + ".hints.json", JSON.stringify(hintsFile(current()), null, 1) + "\n");
  });
  $("load-hints").addEventListener("click", () => $("hints-file").click());
  $("hints-file").addEventListener("change", (e) => { if (e.target.files[0]) loadHints(e.target.files[0]); e.target.value = ""; });

  $("custom-color").addEventListener("change", (e) => choose({ hex: e.target.value }));
  $("hint-size").addEventListener("input", (e) => { $("hint-size-out").textContent = e.target.value; });
  $("hint-size").addEventListener("change", (e) => {
    if (!picker) return;
    const size = Number(e.target.value);
    if (picker.hint < 0) { picker.pending.size = size; render(); return; }
    const i = picker.hint;
    change((s) => { s.hints[i].size = size; });
  });
  $("hint-delete").addEventListener("click", () => {
    if (!picker) return;
    const i = picker.hint;
    closePicker();
    if (i >= 0) change((s) => { s.hints.splice(i, 1); });
  });
  $("picker-close").addEventListener("click", closePicker);

  document.addEventListener("keydown", (e) => {
    const typing = e.target.matches && e.target.matches("input[type=text], input[type=number], select, textarea");
    if (e.key === "Escape" && picker) { closePicker(); return; }
    if (typing || !photo) return;
    const mod = e.ctrlKey || e.metaKey;
    if (!mod && !e.altKey && onPickerKey(e)) return;
    if (mod && e.key.toLowerCase() === "z") { e.preventDefault(); go(e.shiftKey ? index + 1 : index - 1); }
    else if (mod && e.key.toLowerCase() === "y") { e.preventDefault(); go(index + 1); }
    else if (!mod && !e.altKey && (e.key === "h" || e.key === "b")) {
      document.querySelector(`input[name=tool][value=${e.key === "h" ? "hint" : "brush"}]`).click();
    }
  });
  setSlider(Number($("slider").value));
  $("view").className = "tool-hint";
}

async function start() {
  wire();
  document.body.dataset.state = "idle";
  try {
    const r = await fetch("/api/models");
    if (!r.ok) throw new Error(await errorOf(r));
    const answer = await r.json();
    limits = answer.limits;
    models = answer.models;
    defaultModel = answer.default;
  } catch (e) {
    showError("cannot list the models: " + e.message);
    return;
  }
  for (const m of models) $("model").add(new Option(m.name + (m.hints ? " (takes hints)" : " (no hints)"), m.name));
  for (const size of RENDER_SIZES.filter((v) => v <= limits.max_render_size)) $("render-size").add(new Option(`${size} px`, String(size)));
  document.body.dataset.ready = "1";
}

start();
