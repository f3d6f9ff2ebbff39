// chromatize page, part 1 of 2: colour conversion, the editing gestures on the photo, the colour picker.
// Loaded before app.js, whose state (photo, history, picker, ...) these functions read when called.
"use strict";

// ---------- colour: sRGB <-> CIE Lab (D65, the white point OpenCV uses) ----------
const WHITE = [0.950456, 1.0, 1.088754];
const lin = (c) => (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
const gam = (c) => (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055);
const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const finv = (t) => (t * t * t > 0.008856 ? t * t * t : (t - 16 / 116) / 7.787);

function lightnessOf(r, g, b) {
  const y = 0.2126729 * lin(r / 255) + 0.7151522 * lin(g / 255) + 0.072175 * lin(b / 255);
  return 116 * f(y) - 16;
}

function labToHex(L, a, b) {
  const fy = (L + 16) / 116;
  const [X, Y, Z] = [finv(fy + a / 500) * WHITE[0], finv(fy) * WHITE[1], finv(fy - b / 200) * WHITE[2]];
  const rgb = [3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z,
               -0.969266 * X + 1.8760108 * Y + 0.041556 * Z,
               0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z];
  return "#" + rgb.map((c) => Math.round(255 * Math.min(1, Math.max(0, gam(Math.max(0, c)))))
    .toString(16).padStart(2, "0")).join("");
}

function lightnessAt(x, y) {
  if (!photo || !photo.pixels) return 50;
  const { data, width } = photo.pixels;
  const i = 4 * (Math.round(y) * width + Math.round(x));
  return lightnessOf(data[i], data[i + 1], data[i + 2]);
}

// ---------- pointer input on the photo ----------
function photoPoint(event) {
  const r = $("view").getBoundingClientRect();
  const x = ((event.clientX - r.left) / r.width) * photo.width - 0.5;
  const y = ((event.clientY - r.top) / r.height) * photo.height - 0.5;
  return [Math.min(photo.width - 1, Math.max(0, Math.round(x))), Math.min(photo.height - 1, Math.max(0, Math.round(y)))];
}

const screenScale = () => photo.width / ($("view").getBoundingClientRect().width || photo.width || 1);
const tool = () => document.querySelector("input[name=tool]:checked").value;
let gesture = null;

function onPointerDown(e) {
  if (!photo || !photo.width || e.button !== 0) return;
  const target = e.target.closest(".hint");
  $("hints").setPointerCapture(e.pointerId);
  if (target && target.dataset.index !== "-1") {
    gesture = { kind: "move", i: Number(target.dataset.index), start: [e.clientX, e.clientY], el: target, moved: false };
  } else if (tool() === "brush") {
    const size = Math.max(1, Math.round(Number($("brush-size").value) * screenScale()));
    gesture = { kind: "stroke", stroke: { color: $("brush-color").value, size, points: [photoPoint(e)] } };
    showStrokes(current().strokes.concat([gesture.stroke]));
  } else {
    gesture = { kind: "add" };
  }
  e.preventDefault();
}

function onPointerMove(e) {
  if (!gesture) return;
  if (gesture.kind === "move") {
    if (Math.hypot(e.clientX - gesture.start[0], e.clientY - gesture.start[1]) > 3) gesture.moved = true;
    if (gesture.moved) {
      const [x, y] = photoPoint(e);
      gesture.to = [x, y];
      gesture.el.style.left = `${((x + 0.5) / photo.width) * 100}%`;
      gesture.el.style.top = `${((y + 0.5) / photo.height) * 100}%`;
    }
  } else if (gesture.kind === "stroke") {
    gesture.stroke.points.push(photoPoint(e));
    showStrokes(current().strokes.concat([gesture.stroke]));
  }
}

function onPointerUp(e) {
  const g = gesture;
  gesture = null;
  if (!g) return;
  if (g.kind === "move" && g.moved && g.to) {
    change((s) => { Object.assign(s.hints[g.i], { x: g.to[0], y: g.to[1] }); refreshShown(s.hints[g.i]); });
    if (picker && picker.hint === g.i) closePicker();
  } else if (g.kind === "move") {
    openPicker(g.i, e);
  } else if (g.kind === "stroke") {
    change((s) => { s.strokes.push(g.stroke); });
  } else if (g.kind === "add") {
    const [x, y] = photoPoint(e);
    openPicker(-1, e, { x, y, size: Number($("hint-size").value) });
  }
}

function onWheel(e) {
  const target = e.target.closest(".hint");
  if (!target || target.dataset.index === "-1") return;
  e.preventDefault();
  const i = Number(target.dataset.index);
  resizeHint(i, e.deltaY < 0 ? 1 : -1);
}

function resizeHint(i, direction) {
  const size = current().hints[i].size;
  const next = Math.min(128, Math.max(1, direction > 0 ? Math.ceil(size * 1.25) : Math.floor(size / 1.25)));
  if (next !== size) change((s) => { s.hints[i].size = next; });
}

function refreshShown(hint) {
  if (hint.ab) hint.shown = labToHex(lightnessAt(hint.x, hint.y), hint.ab[0], hint.ab[1]);
  else hint.shown = hint.color;
}

function onHintKey(e) {
  const target = e.target.closest && e.target.closest(".hint");
  if (!target || target.dataset.index === "-1") return;
  const i = Number(target.dataset.index);
  const step = e.shiftKey ? 10 : 1;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (moves[e.key]) {
    e.preventDefault();
    change((s) => {
      const h = s.hints[i];
      h.x = Math.min(photo.width - 1, Math.max(0, h.x + moves[e.key][0]));
      h.y = Math.min(photo.height - 1, Math.max(0, h.y + moves[e.key][1]));
      refreshShown(h);
    });
    focusHint(i);
  } else if (e.key === "+" || e.key === "=" || e.key === "-") {
    e.preventDefault();
    resizeHint(i, e.key === "-" ? -1 : 1);
    focusHint(i);
  } else if (e.key === "Delete" || e.key === "Backspace") {
    e.preventDefault();
    closePicker();
    change((s) => { s.hints.splice(i, 1); });
  } else if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    const r = target.getBoundingClientRect();
    openPicker(i, { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 });
  }
}

// A new hint in the "before" part of the before/after view would show no change: move the divider left of it.
function revealAt(x) {
  const at = (100 * x) / photo.width;
  if ($("side-by-side").checked || at > Number($("slider").value)) return;
  $("slider").value = String(Math.max(0, Math.floor(at) - 10));
  setSlider(Number($("slider").value));
}

// Delete and +/- act on the hint whose picker is open (a click on a hint opens it), as on a focused marker.
function onPickerKey(e) {
  if (!picker || picker.hint < 0 || (e.target.closest && e.target.closest(".hint"))) return false;
  const i = picker.hint;
  if (e.key === "Delete" || e.key === "Backspace") {
    closePicker();
    change((s) => { s.hints.splice(i, 1); });
  } else if (e.key === "+" || e.key === "=" || e.key === "-") {
    resizeHint(i, e.key === "-" ? -1 : 1);
    $("hint-size").value = $("hint-size-out").textContent = current().hints[i].size;
  } else {
    return false;
  }
  e.preventDefault();
  return true;
}

const focusHint = (i) => { const m = $("hints").querySelector(`[data-index="${i}"]`); if (m) m.focus(); };

// ---------- the colour picker ----------
function openPicker(i, at, pending) {
  const s = current();
  const hint = i >= 0 ? s.hints[i] : pending;
  picker = { hint: i, pending: i >= 0 ? null : { ...pending }, x: hint.x, y: hint.y,
             at: { clientX: at.clientX + window.scrollX, clientY: at.clientY + window.scrollY } };
  $("picker").hidden = false;
  $("picker-title").textContent = i >= 0 ? `Hint ${i + 1}: colour` : "New hint: choose a colour";
  $("picker-where").textContent = `At pixel ${hint.x}, ${hint.y}`;
  $("hint-delete").textContent = i >= 0 ? "Delete hint" : "Cancel";
  $("hint-size").value = hint.size;
  $("hint-size-out").textContent = hint.size;
  if (hint.color) $("custom-color").value = hint.color;
  renderRecent();
  render();
  placePicker();
  loadSuggestions(picker);
  $("picker-close").focus({ preventScroll: true });
}

function placePicker() {
  // Beside the clicked point, kept inside the window (called again when its content grows).
  if (!picker) return;
  const box = $("picker");
  const root = document.documentElement;
  const left = Math.min(picker.at.clientX + 18, window.scrollX + root.clientWidth - box.offsetWidth - 8);
  const top = Math.min(picker.at.clientY + 18, window.scrollY + root.clientHeight - box.offsetHeight - 8);
  box.style.left = `${Math.max(8, left)}px`;
  box.style.top = `${Math.max(8, top)}px`;
}

function closePicker() {
  if (!picker) return;
  const wasNew = picker.hint < 0;
  picker = null;
  $("picker").hidden = true;
  document.body.dataset.suggestions = "";
  if (wasNew && photo) render();
}

function swatch(color, label, source) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "swatch";
  b.style.background = color.hex;
  b.dataset.source = source;
  b.title = `${color.hex}: ${label}`;
  b.setAttribute("aria-label", `${color.hex}, ${label}`);
  b.addEventListener("click", () => choose({ hex: color.hex, ab: color.ab }));
  return b;
}

async function loadSuggestions(p) {
  const box = $("suggested");
  box.replaceChildren();
  $("picker-method").textContent = "Finding colours for this spot…";
  document.body.dataset.suggestions = "loading";
  const s = current();
  const form = new FormData();
  form.append("image", photo.file, photo.name);
  form.append("x", String(p.x));
  form.append("y", String(p.y));
  form.append("model", s.model);
  if (s.renderSize) form.append("render_size", s.renderSize);
  try {
    const r = await fetch("/api/suggest", { method: "POST", body: form });
    if (!r.ok) throw new Error(await errorOf(r));
    const answer = await r.json();
    if (picker !== p) return;
    box.replaceChildren(...answer.colors.map((c) => swatch(c, answer.sources[c.source], c.source)));
    $("picker-method").textContent = "★ the model's colour; then " +
      Object.keys(answer.sources).filter((k) => k !== "model").map((k) => answer.sources[k]).join("; then ") + ".";
    placePicker();
    document.body.dataset.suggestions = "ready";
  } catch (e) {
    if (picker !== p) return;
    $("picker-method").textContent = "No suggestions: " + e.message;
    document.body.dataset.suggestions = "error";
  }
}

function renderRecent() {
  $("recent").replaceChildren(...recent.map((c) => swatch(c, "recently used", "recent")));
  if (!recent.length) $("recent").textContent = "none yet";
}

function choose(color) {
  // color: {hex, ab?} (a suggestion: its a*b* is what the hint sets) or {hex} (any colour).
  if (!picker) return;
  recent = [color].concat(recent.filter((c) => c.hex !== color.hex)).slice(0, RECENT_MAX);
  try { localStorage.setItem("chromatize.recent", JSON.stringify(recent)); } catch (e) { /* private mode */ }
  const apply = (h) => {
    delete h.ab; delete h.color;
    if (color.ab) h.ab = color.ab.map((v) => Math.round(v * 1000) / 1000);
    else h.color = color.hex;
    refreshShown(h);
  };
  if (picker.hint < 0) {
    const hint = { ...picker.pending };
    apply(hint);
    picker.hint = current().hints.length;   // it becomes this hint
    picker.pending = null;
    change((s) => { s.hints.push(hint); });
    revealAt(hint.x);
    $("picker-title").textContent = `Hint ${picker.hint + 1}: colour`;
    $("hint-delete").textContent = "Delete hint";
  } else {
    const i = picker.hint;
    change((s) => { apply(s.hints[i]); });
  }
  renderRecent();
  placePicker();
}
