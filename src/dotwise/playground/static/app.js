// dotwise playground — the page framework. The page draws; every number comes from the JSON API.
//
// Demos are plugins: static/demos/<id>.js calls dotwise.registerDemo({id, mount(section), state?})
// and routes/<id>.py serves its /api/... endpoints with TITLE and ORDER. The page asks
// GET /api/demos for the list (ordered, titled), loads each demo's script, builds one tab and
// one <section id="demo-<id>"> per demo, and mounts a demo the first time its tab opens.
// The helpers below ($, api, fmt, runner, plane, segTrace...) are globals the demos use.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const COLORS = { u: "#2b6cb0", v: "#c05621", p: "#2f855a", accent: "#553c9a", grey: "#a0aec0",
                 red: "#c53030", green: "#2f855a", blue: "#2b6cb0", orange: "#dd6b20" };

class ApiError extends Error {}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch("/api/" + path, opts);
  let data;
  try { data = await res.json(); } catch (e) { data = { detail: res.statusText }; }
  if (!res.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
    throw new ApiError(detail || ("HTTP " + res.status));
  }
  return data;
}

// Formatting only (4 significant digits); no arithmetic on the values.
function fmt(x) {
  if (x === null || x === undefined) return "—";
  if (x === "inf") return "∞";
  if (x === "-inf") return "−∞";
  if (typeof x !== "number") return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}
const fmtVec = (a) => "(" + a.map(fmt).join(", ") + ")";
const fmtMat = (m) => m.map((r) => r.map((x) => fmt(x).padStart(9)).join("")).join("\n");

function setError(section, message) { $(".error", section).textContent = message || ""; }
function setWarnings(section, list) { $(".warnings", section).textContent = (list || []).join("\n"); }
function setPython(section, code, sel = ".python") { $(sel, section).textContent = code || ""; }
function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }

// One request in flight per demo; the latest change wins. The section's data-state
// ("loading" | "ready" | "error") and data-seq (completed updates) let tests wait on it.
function runner(section, fn) {
  let busy = false, pending = false;
  const go = async () => {
    if (busy) { pending = true; return; }
    busy = true;
    section.dataset.state = "loading";
    let state = "ready";
    try {
      await fn();
      setError(section, "");
    } catch (e) {
      state = "error";
      setError(section, e.message);
      if (!(e instanceof ApiError)) console.error(e);
    }
    busy = false;
    if (pending) { pending = false; go(); return; }
    section.dataset.seq = String(Number(section.dataset.seq || 0) + 1);
    section.dataset.state = state;
  };
  return go;
}

// Pixel → data coordinates of a 2-D Plotly plot (for dragging and clicking).
function toData(gd, ev) {
  const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
  const rect = gd.getBoundingClientRect();
  const px = ev.clientX - rect.left - gd.clientLeft - xa._offset;
  const py = ev.clientY - rect.top - gd.clientTop - ya._offset;
  return [xa.p2d(px), ya.p2d(py)];
}
const snap = (x) => Math.round(x * 10) / 10;
const num = (el) => { const x = parseFloat(el.value); return Number.isFinite(x) ? x : 0; };

function arrow(tip, color, from = [0, 0]) {
  return { x: tip[0], y: tip[1], ax: from[0], ay: from[1], xref: "x", yref: "y", axref: "x",
           ayref: "y", showarrow: true, arrowhead: 2, arrowsize: 1, arrowwidth: 3,
           arrowcolor: color, text: "" };
}
function label(pos, text, color) {
  return { x: pos[0], y: pos[1], xref: "x", yref: "y", text: "<b>" + text + "</b>",
           showarrow: false, font: { color, size: 15 }, xshift: 12, yshift: 12 };
}
// Segments [[p, q], ...] → one line trace (null-separated).
function segTrace(segs, style, is3d = false) {
  const x = [], y = [], z = [];
  for (const [p, q] of segs) {
    x.push(p[0], q[0], null); y.push(p[1], q[1], null);
    if (is3d) z.push(p[2], q[2], null);
  }
  const t = { type: is3d ? "scatter3d" : "scatter", mode: "lines", x, y, hoverinfo: "skip",
              showlegend: false, ...style };
  if (is3d) t.z = z;
  return t;
}
function plane(extent) {
  return {
    margin: { l: 40, r: 16, t: 16, b: 36 }, showlegend: false, dragmode: false, hovermode: false,
    xaxis: { range: [-extent, extent], fixedrange: true, zeroline: true, zerolinecolor: "#718096",
             gridcolor: "#edf2f7", constrain: "domain" },
    yaxis: { range: [-extent, extent], fixedrange: true, zeroline: true, zerolinecolor: "#718096",
             gridcolor: "#edf2f7", scaleanchor: "x", constrain: "domain" },
    plot_bgcolor: "#fff", paper_bgcolor: "#fff",
  };
}

// Photo pickers of the image demos: every sample photo, those needing a missing package disabled.
async function fillImageSelect(sel) {
  const r = await api("images");
  sel.innerHTML = r.details.map((p) => `<option value="${p.name}"${p.available ? "" : " disabled"}>` +
    `${p.name}${p.available ? "" : ` (needs ${p.needs})`}</option>`).join("");
  sel.value = r.default;
}

// ------------------------------------------------------------------ the demo framework
const REGISTRY = {};
const started = new Set();
let DEMO_LIST = [];
window.dotwise = {
  registerDemo(demo) {
    if (!demo || typeof demo.id !== "string" || typeof demo.mount !== "function") {
      throw new Error("dotwise.registerDemo needs {id: string, mount(section): function}");
    }
    REGISTRY[demo.id] = demo;
  },
  demos: REGISTRY,
};

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const el = document.createElement("script");
    el.src = src;
    el.onload = resolve;
    el.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(el);
  });
}

function addCopyButtons(root) {
  for (const pre of $$("pre.python", root)) {
    const wrap = document.createElement("div");
    wrap.className = "code";
    pre.parentNode.insertBefore(wrap, pre);
    wrap.appendChild(pre);
    const btn = document.createElement("button");
    btn.type = "button"; btn.className = "copy"; btn.textContent = "copy";
    btn.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(pre.textContent);
        btn.textContent = "copied";
      } catch (e) {
        const range = document.createRange(); range.selectNodeContents(pre);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        btn.textContent = "selected: Ctrl+C";
      }
      setTimeout(() => { btn.textContent = "copy"; }, 1500);
    });
    wrap.appendChild(btn);
  }
}

function show(id) {
  if (!REGISTRY[id]) id = DEMO_LIST.length ? DEMO_LIST[0].id : id;
  for (const b of $$("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.demo === id));
  for (const s of $$("section.demo")) s.hidden = s.dataset.demo !== id;
  const section = $(`#demo-${id}`);
  if (!section) return;
  if (history.replaceState) history.replaceState(null, "", "#" + id);
  if (!started.has(id)) {
    started.add(id);
    REGISTRY[id].mount(section);
    addCopyButtons(section);
  }
  for (const gd of $$(".plot", section)) if (gd._fullLayout) Plotly.Plots.resize(gd);
}

async function main() {
  const tabs = $("#tabs"), main = $("main");
  try {
    DEMO_LIST = (await api("demos")).demos;
    await Promise.all(DEMO_LIST.map((d) => loadScript(d.script)));
  } catch (e) {
    main.textContent = "The playground could not load its demos: " + e.message;
    document.body.dataset.ready = "1";
    return;
  }
  DEMO_LIST = DEMO_LIST.filter((d) => REGISTRY[d.id]);
  DEMO_LIST.forEach((d, i) => {
    const b = document.createElement("button");
    b.setAttribute("role", "tab"); b.dataset.demo = d.id;
    b.textContent = `${i + 1} · ${d.title}`;
    b.addEventListener("click", () => show(d.id));
    tabs.appendChild(b);
    const section = document.createElement("section");
    section.id = "demo-" + d.id; section.className = "demo"; section.dataset.demo = d.id;
    section.hidden = true;
    main.appendChild(section);
  });
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
  document.body.dataset.ready = "1";
}
main();
