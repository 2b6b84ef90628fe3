// dotwise playground — the page draws; every number comes from the JSON API (/api/...).
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

// ------------------------------------------------------------------ 1 vectors
const VEC = { u: [3, 2], v: [4, -1] };
function initVectors(section) {
  const gd = $("#vec-plot");
  Plotly.newPlot(gd, [], plane(6), PLOT_CONFIG);
  const inputs = { u: [$("#vec-u0"), $("#vec-u1")], v: [$("#vec-v0"), $("#vec-v1")] };
  const update = runner(section, async () => {
    const r = await api("vectors", { u: VEC.u, v: VEC.v });
    for (const key of ["dot", "norm_u", "norm_v", "cosine", "angle_degrees",
                       "scalar_projection", "residual_dot_v"]) setText("vec-" + key, fmt(r[key]));
    setText("vec-vector_projection", fmtVec(r.vector_projection));
    setText("vec-residual", fmtVec(r.residual));
    setWarnings(section, r.warnings); setPython(section, r.python);
    const traces = [
      segTrace([r.span_v], { line: { color: "rgba(192,86,33,0.25)", width: 1.5 } }),
      { x: [r.vector_projection[0], r.u[0]], y: [r.vector_projection[1], r.u[1]], mode: "lines",
        line: { dash: "dash", color: "#4a5568", width: 2 }, hoverinfo: "skip" },
      { x: [r.u[0], r.v[0]], y: [r.u[1], r.v[1]], mode: "markers", hoverinfo: "skip",
        marker: { size: 18, color: [COLORS.u, COLORS.v], opacity: 0.35 } },
    ];
    if (r.right_angle) {
      traces.push({ x: r.right_angle.map((p) => p[0]), y: r.right_angle.map((p) => p[1]),
                    mode: "lines", line: { color: "#4a5568", width: 1.2 }, hoverinfo: "skip" });
    }
    const ann = [arrow(r.v, COLORS.v), arrow(r.u, COLORS.u), arrow(r.vector_projection, COLORS.p),
                 label(r.u, "u", COLORS.u), label(r.v, "v", COLORS.v),
                 label(r.vector_projection, "proj", COLORS.p)];
    Plotly.react(gd, traces, { ...plane(6), annotations: ann }, PLOT_CONFIG);
  });
  const sync = () => {
    for (const k of ["u", "v"]) inputs[k].forEach((el, i) => { el.value = VEC[k][i]; });
  };
  for (const k of ["u", "v"]) {
    inputs[k].forEach((el, i) => el.addEventListener("change", () => {
      VEC[k][i] = num(el); update();
    }));
  }
  let dragging = null;
  gd.addEventListener("pointerdown", (ev) => {
    const [x, y] = toData(gd, ev);
    let best = null, bestD = 0.8;
    for (const k of ["u", "v"]) {
      const d = Math.hypot(VEC[k][0] - x, VEC[k][1] - y);  // hit-testing the handles
      if (d < bestD) { best = k; bestD = d; }
    }
    if (best) { dragging = best; ev.preventDefault(); ev.stopPropagation(); }
  }, true);
  window.addEventListener("pointermove", (ev) => {
    if (!dragging) return;
    const [x, y] = toData(gd, ev);
    VEC[dragging] = [snap(x), snap(y)];
    sync(); update();
  });
  window.addEventListener("pointerup", () => { dragging = null; });
  sync(); update();
}

// ------------------------------------------------------------------ 2 matrix
const MAT = { n: 2, A: [[1, 1], [0, 1]], presets: {} };
function initMatrix(section) {
  const gd = $("#mat-plot"), grid = $("#mat-grid"), presetSel = $("#mat-preset");
  const buildInputs = () => {
    grid.innerHTML = "";
    grid.style.gridTemplateColumns = `repeat(${MAT.n}, auto)`;
    MAT.A.forEach((row, i) => row.forEach((x, j) => {
      const el = document.createElement("input");
      el.type = "number"; el.step = "0.1"; el.value = String(Number(x.toPrecision(4)));
      el.id = `mat-a${i}${j}`;
      el.addEventListener("change", () => { MAT.A[i][j] = num(el); presetSel.value = ""; update(); });
      grid.appendChild(el);
    }));
  };
  const loadPresets = async () => {
    const r = await api("matrix/presets?n=" + MAT.n);
    MAT.presets = r.presets;
    presetSel.innerHTML = '<option value="">(custom)</option>' + Object.keys(r.presets)
      .map((k) => `<option>${k}</option>`).join("");
  };
  const update = runner(section, async () => {
    const t = Number($("#mat-t").value);
    const r = await api("matrix", { matrix: MAT.A, t });
    setText("mat-t-label", t === 1 ? "showing A" : `showing (1 − t)I + tA, t = ${t}: det ${fmt(r.det_t)}`);
    setText("mat-det", fmt(r.det));
    setText("mat-rank", `${r.rank} of ${r.n}`);
    setText("mat-cond", fmt(r.cond));
    const eig = r.eigen.map((e) => `λ = ${fmt(e.value)}  v = ${fmtVec(e.vector)}`);
    if (r.defective) eig.push("defective: a repeated eigenvalue with only one direction");
    if (r.complex_eigenvalues.length) {
      eig.push(`complex: ${r.complex_eigenvalues.join(", ")} (no real direction is only scaled)`);
    }
    setText("mat-eigen", eig.join("\n") || "—");
    const notes = [];
    if (r.flattened_to) notes.push(`Singular: space is flattened onto ${r.flattened_to} (det = 0).`);
    notes.push(...r.advice.map((a) => "• " + a));
    setText("mat-note", notes.join("\n"));
    setWarnings(section, r.warnings); setPython(section, r.python);
    const fill = typeof r.det === "number" && r.det < 0 ? "rgba(221,107,32,0.25)" : "rgba(43,108,176,0.22)";
    if (r.n === 2) {
      const poly = r.shape_image.map((e) => e[0]);
      poly.push(r.shape_image[0][0]);
      const traces = [
        segTrace(r.grid, { line: { color: "#e2e8f0", width: 1 } }),
        segTrace(r.grid_image, { line: { color: "rgba(43,108,176,0.45)", width: 1.2 } }),
        { x: poly.map((p) => p[0]), y: poly.map((p) => p[1]), mode: "lines", fill: "toself",
          fillcolor: fill, line: { color: COLORS.blue, width: 2 }, hoverinfo: "skip" },
        segTrace(r.shape, { line: { color: "#718096", width: 1.5, dash: "dot" } }),
        ...r.eigen.map((e) => segTrace([e.segment], { line: { color: COLORS.accent, dash: "dash", width: 1.5 } })),
      ];
      const ann = [arrow(r.basis_images[0], COLORS.red), arrow(r.basis_images[1], COLORS.green),
                   label(r.basis_images[0], "Ae₁", COLORS.red), label(r.basis_images[1], "Ae₂", COLORS.green)];
      Plotly.react(gd, traces, { ...plane(4), annotations: ann }, PLOT_CONFIG);
    } else {
      const origin = [0, 0, 0];
      const traces = [
        segTrace(r.grid_image, { line: { color: "rgba(160,174,192,0.35)", width: 1 } }, true),
        segTrace(r.shape, { line: { color: "#718096", width: 2, dash: "dot" } }, true),
        segTrace(r.shape_image, { line: { color: COLORS.blue, width: 5 } }, true),
        segTrace([[origin, r.basis_images[0]]], { line: { color: COLORS.red, width: 7 } }, true),
        segTrace([[origin, r.basis_images[1]]], { line: { color: COLORS.green, width: 7 } }, true),
        segTrace([[origin, r.basis_images[2]]], { line: { color: COLORS.orange, width: 7 } }, true),
        ...r.eigen.map((e) => segTrace([e.segment], { line: { color: COLORS.accent, width: 3, dash: "dash" } }, true)),
      ];
      const ax = { range: [-2.5, 2.5], autorange: false };
      Plotly.react(gd, traces, { margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false,
        scene: { xaxis: ax, yaxis: ax, zaxis: ax, aspectmode: "cube" } }, PLOT_CONFIG);
    }
  });
  $("#mat-t").addEventListener("input", update);
  presetSel.addEventListener("change", () => {
    const m = MAT.presets[presetSel.value];
    if (!m) return;
    MAT.A = m.map((r) => r.slice()); buildInputs(); update();
  });
  $("#mat-n").addEventListener("change", async (ev) => {
    MAT.n = Number(ev.target.value);
    try { await loadPresets(); } catch (e) { setError(section, e.message); return; }
    MAT.A = MAT.presets.identity.map((r) => r.slice());
    presetSel.value = "identity";
    Plotly.purge(gd);
    buildInputs(); update();
  });
  buildInputs();
  loadPresets().then(() => { presetSel.value = "shear"; }).catch((e) => setError(section, e.message));
  update();
}

// ------------------------------------------------------------------ 3 Gram–Schmidt
const GS = { V: [[3, 1, 0], [2, 2, 0.5], [1, 0.5, 2]], last: null };
function initGram(section) {
  const gd = $("#gs-plot"), grid = $("#gs-grid"), stepEl = $("#gs-step");
  grid.style.gridTemplateColumns = "auto repeat(3, auto)";
  GS.V.forEach((row, i) => {
    const lab = document.createElement("span"); lab.textContent = `v${i + 1}`;
    grid.appendChild(lab);
    row.forEach((x, j) => {
      const el = document.createElement("input");
      el.type = "number"; el.step = "0.1"; el.value = x; el.id = `gs-v${i}${j}`;
      el.addEventListener("change", () => { GS.V[i][j] = num(el); update(); });
      grid.appendChild(el);
    });
  });
  const line3 = (p, color, width, dash, name) => ({
    type: "scatter3d", mode: "lines+text", x: [0, p[0]], y: [0, p[1]], z: [0, p[2]],
    text: ["", name], textfont: { color }, line: { color, width, dash }, hoverinfo: "skip",
    showlegend: false,
  });
  const draw = () => {
    const r = GS.last;
    if (!r) return;
    const s = Math.min(Number(stepEl.value), r.steps.length);
    const st = r.steps[s - 1];
    setText("gs-step-label", `${s} of ${r.steps.length}`);
    const onto = s === 2 ? "q1" : `q1…q${s - 1}`;
    setText("gs-step-text", s === 1 ? "v1 scaled to length 1 (nothing to subtract yet)"
      : `v${s} minus its projections on ${onto}, then scaled to length 1`);
    setText("gs-remainder", fmt(st.remainder_norm));
    const traces = r.steps.map((t, i) => line3(t.vector, "#a0aec0", 3, "solid", `v${i + 1}`));
    for (let i = 0; i < s - 1; i++) traces.push(line3(r.steps[i].q, COLORS.blue, 8, "solid", `q${i + 1}`));
    traces.push(line3(st.vector, COLORS.orange, 6, "solid", `v${s}`));
    st.projections.forEach((p) => traces.push(line3(p.vector, COLORS.accent, 5, "dash", `proj on q${p.onto + 1}`)));
    traces.push(line3(st.remainder, COLORS.green, 6, "solid", "remainder"));
    traces.push(line3(st.q, COLORS.blue, 9, "solid", `q${s}`));
    Plotly.react(gd, traces, { margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false,
      scene: { aspectmode: "data", camera: { eye: { x: 1.5, y: 1.3, z: 0.9 } } } }, PLOT_CONFIG);
  };
  const update = runner(section, async () => {
    const r = await api("gram-schmidt", { vectors: GS.V, method: $("#gs-method").value });
    GS.last = r;
    stepEl.max = String(r.steps.length);
    setText("gs-loss", fmt(r.orthogonality_loss));
    setText("gs-Q", fmtMat(r.Q)); setText("gs-R", fmtMat(r.R));
    setWarnings(section, r.warnings); setPython(section, r.python);
    draw();
  });
  const lossGd = $("#gs-loss-plot"), nEl = $("#gs-n");
  const updateLoss = runner(section, async () => {
    const r = await api("gram-schmidt/loss", { n: Number(nEl.value) });
    setText("gs-n-label", `n = ${r.n}, cond(H) = ${fmt(r.cond)}`);
    $("#gs-loss-table").innerHTML = r.methods.map((m) =>
      `<tr><th>${m.method}</th><td id="gs-loss-${m.method}">${m.loss === null ? m.error : fmt(m.loss)}</td></tr>`).join("");
    setPython(section, r.python, ".python-loss");
    const ok = r.methods.filter((m) => typeof m.loss === "number");
    Plotly.react(lossGd, [{ type: "bar", x: ok.map((m) => m.method), y: ok.map((m) => m.loss),
      marker: { color: [COLORS.orange, COLORS.blue, COLORS.green, COLORS.accent] },
      text: ok.map((m) => fmt(m.loss)), textposition: "outside" }],
      { margin: { l: 60, r: 16, t: 30, b: 40 }, title: { text: "‖QᵀQ − I‖ on the Hilbert matrix", font: { size: 14 } },
        yaxis: { type: "log", exponentformat: "power", range: [-17, 1] }, dragmode: false }, PLOT_CONFIG);
  });
  $("#gs-method").addEventListener("change", update);
  stepEl.addEventListener("input", draw);
  nEl.addEventListener("input", updateLoss);
  update(); updateLoss();
}

// ------------------------------------------------------------------ 4 least squares
const ALPHAS = [0, 0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000];
const LS = { points: [[-4, -2.6], [-3, -0.9], [-1.5, -0.6], [0, 0.5], [1, 0.4], [2.5, 2.2], [3.8, 2.4]],
             history: [] };
function initLstsq(section) {
  const gd = $("#ls-plot"), degSel = $("#ls-degree"), alphaEl = $("#ls-alpha");
  degSel.innerHTML = [...Array(9).keys()].map((d) => `<option ${d === 1 ? "selected" : ""}>${d}</option>`).join("");
  Plotly.newPlot(gd, [], plane(5), PLOT_CONFIG);
  const update = runner(section, async () => {
    const alpha = ALPHAS[Number(alphaEl.value)];
    setText("ls-alpha-label", alpha === 0 ? "off" : String(alpha));
    if (!LS.points.length) throw new ApiError("add at least one point (click in the plot)");
    const r = await api("lstsq", { points: LS.points, degree: Number(degSel.value), alpha });
    setText("ls-coef", fmtVec(r.coef));
    setText("ls-residual_norm", fmt(r.residual_norm));
    setText("ls-At_r", fmtVec(r.At_r));
    setText("ls-rank", `rank ${r.rank}, cond ${fmt(r.cond)}`);
    setText("ls-method", r.method);
    setText("ls-ridge", r.ridge ? fmtVec(r.ridge.coef) : "(α = 0: off)");
    setWarnings(section, r.warnings); setPython(section, r.python);
    const segs = LS.points.map((p, i) => [p, [p[0], r.fitted[i]]]);
    const traces = [
      segTrace(segs, { line: { color: "#a0aec0", width: 2 }, name: "residuals", showlegend: true }),
      { x: r.curve_x, y: r.curve_y, mode: "lines", line: { color: COLORS.blue, width: 3 },
        hoverinfo: "skip", name: "least squares" },
      { x: LS.points.map((p) => p[0]), y: LS.points.map((p) => p[1]), mode: "markers",
        marker: { size: 10, color: COLORS.v }, hoverinfo: "skip", name: "points" },
    ];
    if (r.ridge) traces.splice(2, 0, { x: r.curve_x, y: r.ridge.curve, mode: "lines", hoverinfo: "skip",
                                       name: `ridge α = ${r.alpha}`,
                                       line: { color: COLORS.p, width: 2.5, dash: "dash" } });
    Plotly.react(gd, traces, { ...plane(5), showlegend: true,
      legend: { x: 0.01, y: 0.99, bgcolor: "rgba(255,255,255,0.8)" } }, PLOT_CONFIG);
  });
  gd.addEventListener("pointerdown", (ev) => {
    if (ev.target.closest && ev.target.closest(".legend")) return;  // legend clicks toggle traces
    const [x, y] = toData(gd, ev);
    if (Math.abs(x) > 5 || Math.abs(y) > 5) return;
    LS.history.push(LS.points.map((p) => p.slice()));
    const hit = LS.points.findIndex((p) => Math.hypot(p[0] - x, p[1] - y) < 0.2);
    if (hit >= 0) LS.points.splice(hit, 1); else LS.points.push([snap(x), snap(y)]);
    ev.preventDefault(); update();
  }, true);
  $("#ls-undo").addEventListener("click", () => { if (LS.history.length) { LS.points = LS.history.pop(); update(); } });
  $("#ls-clear").addEventListener("click", () => { LS.history.push(LS.points); LS.points = []; update(); });
  degSel.addEventListener("change", update);
  alphaEl.addEventListener("input", update);
  update();
}

// ------------------------------------------------------------------ 5 attention
const ATT = { custom: { q: null, k: null, v: null } };
function initAttention(section) {
  const gd = $("#att-plot"), entGd = $("#att-entropy-plot");
  const tokens = () => $("#att-tokens").value.trim().split(/\s+/).filter(Boolean);
  const matText = (m) => m.map((r) => r.map((x) => fmt(x)).join(" ")).join("\n");
  const parse = (text) => text.trim().split("\n").filter((l) => l.trim())
    .map((l) => l.trim().split(/[\s,]+/).map(Number));
  const update = runner(section, async () => {
    const body = { tokens: tokens(), d: Number($("#att-d").value), seed: Number($("#att-seed").value),
                   scaled: $("#att-scaled").checked, causal: $("#att-causal").checked,
                   temperature: Number($("#att-temp").value) };
    for (const k of ["q", "k", "v"]) if (ATT.custom[k]) body[k] = ATT.custom[k];
    setText("att-temp-label", String(body.temperature));
    const r = await api("attention", body);
    for (const k of ["q", "k", "v"]) $("#att-" + k).value = matText(r[k]);
    setText("att-scale", fmt(r.scale));
    setText("att-entropy", r.entropy.map(fmt).join("  "));
    setWarnings(section, r.warnings); setPython(section, r.python);
    const labels = r.tokens.map((t, i) => `${i}:${t}`);
    Plotly.react(gd, [{ type: "heatmap", z: r.weights, x: labels, y: labels, zmin: 0, zmax: 1,
      colorscale: [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]], texttemplate: "%{z:.2f}", hovertemplate: "query %{y} → key %{x}: %{z:.3f}<extra></extra>",
      colorbar: { title: { text: "weight" } } }],
      { margin: { l: 70, r: 10, t: 30, b: 60 }, title: { text: "attention weights (rows: queries)", font: { size: 14 } },
        yaxis: { autorange: "reversed", title: { text: "query" } }, xaxis: { title: { text: "key" } } }, PLOT_CONFIG);
    Plotly.react(entGd, [
      { type: "bar", x: labels, y: r.entropy, name: "entropy", marker: { color: COLORS.blue } },
      { type: "scatter", mode: "markers", x: labels, y: r.max_entropy, name: "maximum (uniform)",
        marker: { symbol: "line-ew-open", size: 26, color: COLORS.red, line: { width: 3 } } },
    ], { margin: { l: 50, r: 10, t: 30, b: 40 }, title: { text: "entropy per query row (nats)", font: { size: 14 } },
         legend: { orientation: "h", x: 0.6, y: 1.2 } }, PLOT_CONFIG);
  });
  const reset = () => { ATT.custom = { q: null, k: null, v: null }; update(); };
  for (const k of ["q", "k", "v"]) {
    $("#att-" + k).addEventListener("change", (ev) => { ATT.custom[k] = parse(ev.target.value); update(); });
  }
  $("#att-tokens").addEventListener("change", reset);
  $("#att-d").addEventListener("change", reset);
  $("#att-seed").addEventListener("change", reset);
  $("#att-random").addEventListener("click", () => {
    $("#att-seed").value = String(Number($("#att-seed").value) + 1); reset();
  });
  for (const id of ["#att-scaled", "#att-causal"]) $(id).addEventListener("change", update);
  $("#att-temp").addEventListener("input", update);
  update();
}

// ------------------------------------------------------------------ 6 search
const SRCH = { paint: new Array(64).fill(0), query: { index: 0 } };
function drawDigit(canvas, pixels, cell, grid = false) {
  const ctx = canvas.getContext("2d");
  for (let i = 0; i < 64; i++) {
    const shade = Math.round(255 - (pixels[i] / 16) * 255);  // display only: 0..16 → grey
    ctx.fillStyle = `rgb(${shade},${shade},${shade})`;
    ctx.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  }
  if (grid) {
    ctx.strokeStyle = "#e2e8f0";
    for (let j = 1; j < 8; j++) {
      ctx.beginPath(); ctx.moveTo(j * cell, 0); ctx.lineTo(j * cell, 8 * cell); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, j * cell); ctx.lineTo(8 * cell, j * cell); ctx.stroke();
    }
  }
}
function initSearch(section) {
  const gd = $("#srch-map"), paint = $("#srch-paint");
  let mapTraces = null;
  const update = runner(section, async () => {
    if (!mapTraces) {
      const m = await api("digits/map");
      mapTraces = [...Array(10).keys()].map((d) => {
        const idx = m.labels.map((l, i) => (l === d ? i : -1)).filter((i) => i >= 0);
        return { type: "scatter", mode: "markers", name: String(d), customdata: idx,
                 x: idx.map((i) => m.xy[i][0]), y: idx.map((i) => m.xy[i][1]),
                 marker: { size: 5, opacity: 0.6 }, hovertemplate: `digit ${d} #%{customdata}<extra></extra>` };
      });
    }
    const body = { metric: $("#srch-metric").value, k: Number($("#srch-k").value), ...SRCH.query };
    const r = await api("search", body);
    setText("srch-query", r.query_label === null ? "your drawing" : `#${body.index} (a ${r.query_label})`);
    const out = $("#srch-results");
    out.innerHTML = "";
    r.neighbours.forEach((nb) => {
      const fig = document.createElement("figure");
      const c = document.createElement("canvas"); c.width = c.height = 48;
      drawDigit(c, nb.pixels, 6);
      fig.appendChild(c);
      const cap = document.createElement("figcaption");
      cap.className = "nb"; cap.dataset.id = nb.id;
      cap.textContent = `#${nb.id}: a ${nb.label}\n${r.metric === "l2" ? "dist" : r.metric} ${fmt(nb.score)}`;
      fig.appendChild(cap); out.appendChild(fig);
    });
    setWarnings(section, r.warnings); setPython(section, r.python);
    const hl = [
      { type: "scatter", mode: "markers", x: r.neighbours.map((n) => n.xy[0]), y: r.neighbours.map((n) => n.xy[1]),
        marker: { size: 12, color: "rgba(0,0,0,0)", line: { color: "#1a202c", width: 2 } }, name: "neighbours", hoverinfo: "skip" },
      { type: "scatter", mode: "markers", x: [r.query_xy[0]], y: [r.query_xy[1]], name: "query",
        marker: { size: 18, symbol: "star", color: "#e53e3e", line: { color: "#fff", width: 1 } }, hoverinfo: "skip" },
    ];
    Plotly.react(gd, [...mapTraces, ...hl], { margin: { l: 40, r: 10, t: 30, b: 36 },
      title: { text: "digits on their first two principal components", font: { size: 14 } },
      legend: { orientation: "h", y: -0.08 }, dragmode: "pan" }, PLOT_CONFIG);
    bindClick();
  });
  let bound = false;
  const bindClick = () => {
    if (bound || !gd.on) return;
    bound = true;
    gd.on("plotly_click", (ev) => {
      const pt = ev.points && ev.points[0];
      if (!pt || pt.customdata === undefined) return;
      SRCH.query = { index: pt.customdata }; $("#srch-index").value = pt.customdata; update();
    });
  };
  $("#srch-index").addEventListener("change", (ev) => { SRCH.query = { index: Number(ev.target.value) }; update(); });
  $("#srch-metric").addEventListener("change", update);
  $("#srch-k").addEventListener("change", update);
  let painting = false;
  const paintAt = (ev) => {
    const rect = paint.getBoundingClientRect();
    const col = Math.floor(((ev.clientX - rect.left) / rect.width) * 8);
    const row = Math.floor(((ev.clientY - rect.top) / rect.height) * 8);
    if (col < 0 || col > 7 || row < 0 || row > 7) return;
    SRCH.paint[row * 8 + col] = ev.shiftKey ? 0 : 16;
    drawDigit(paint, SRCH.paint, 20, true);
  };
  paint.addEventListener("pointerdown", (ev) => { painting = true; paintAt(ev); });
  paint.addEventListener("pointermove", (ev) => { if (painting) paintAt(ev); });
  window.addEventListener("pointerup", () => { painting = false; });
  $("#srch-paint-clear").addEventListener("click", () => { SRCH.paint.fill(0); drawDigit(paint, SRCH.paint, 20, true); });
  $("#srch-paint-search").addEventListener("click", () => { SRCH.query = { pixels: SRCH.paint.slice() }; update(); });
  $("#srch-typed-search").addEventListener("click", () => {
    const values = $("#srch-typed").value.trim().split(/[\s,]+/).filter(Boolean).map(Number);
    SRCH.query = { pixels: values };  // the API checks the count (64) and the range (0–16)
    SRCH.paint = values.length === 64 ? values.slice() : SRCH.paint;
    drawDigit(paint, SRCH.paint, 20, true);
    update();
  });
  drawDigit(paint, SRCH.paint, 20, true);
  update();
}

// ------------------------------------------------------------------ 7 + 8 images
async function fillImageSelect(sel) {
  const r = await api("images");
  sel.innerHTML = r.images.map((n) => `<option>${n}</option>`).join("");
}
function initSvd(section) {
  const gd = $("#svd-spectrum"), rankEl = $("#svd-rank"), imgSel = $("#svd-image");
  const update = runner(section, async () => {
    if (!imgSel.options.length) await fillImageSelect(imgSel);
    setText("svd-rank-label", rankEl.value);
    const r = await api("svd", { image: imgSel.value, rank: Number(rankEl.value) });
    rankEl.max = String(Math.min(r.height, r.width));
    $("#svd-original").src = r.original;
    $("#svd-reconstruction").src = r.reconstruction;
    setText("svd-rank-cap", String(r.rank));
    setText("svd-psnr", fmt(r.psnr)); setText("svd-nbytes", fmt(r.nbytes));
    setText("svd-ratio", fmt(r.ratio)); setText("svd-energy", fmt(r.energy));
    setText("svd-size", `${r.width} × ${r.height}`);
    setWarnings(section, r.warnings); setPython(section, r.python);
    const names = r.singular_values.length === 3 ? ["red", "green", "blue"] : ["grey"];
    const traces = r.singular_values.map((sv, c) => ({ y: sv, mode: "lines", name: names[c],
      line: { color: names[c] === "grey" ? "#4a5568" : names[c], width: 1.5 } }));
    Plotly.react(gd, traces, { margin: { l: 60, r: 10, t: 30, b: 40 },
      title: { text: "singular values σᵢ (log scale); the cut at rank r", font: { size: 14 } },
      yaxis: { type: "log", exponentformat: "power" }, xaxis: { title: { text: "i" } },
      shapes: [{ type: "line", x0: r.rank, x1: r.rank, yref: "paper", y0: 0, y1: 1,
                 line: { color: COLORS.accent, width: 2, dash: "dash" } }] }, PLOT_CONFIG);
  });
  rankEl.addEventListener("input", update);
  imgSel.addEventListener("change", update);
  update();
}

const FLT = { steps: [{ name: "gaussian_blur", params: { sigma: 1.5 } }, { name: "sharpen", params: { amount: 0.8 } },
                     { name: "sepia", params: {} }, { name: "brightness", params: { factor: 1.1 } }],
              catalogue: null };
function initFilters(section) {
  const imgSel = $("#flt-image"), addSel = $("#flt-add"), list = $("#flt-steps");
  const renderSteps = () => {
    list.innerHTML = "";
    FLT.steps.forEach((step, i) => {
      const li = document.createElement("li");
      li.innerHTML = `<b>${step.name}</b><span class="params"></span> `;
      const params = $(".params", li);
      for (const p of FLT.catalogue[step.name]) {
        if (!(p.name in step.params)) step.params[p.name] = p.default;
        const lab = document.createElement("label");
        lab.textContent = p.name + " ";
        const el = document.createElement("input");
        Object.assign(el, { type: "range", min: p.min, max: p.max, step: p.step, value: step.params[p.name] });
        el.id = `flt-${i}-${p.name}`;
        const val = document.createElement("span"); val.textContent = String(step.params[p.name]);
        el.addEventListener("input", () => { step.params[p.name] = Number(el.value); val.textContent = el.value; update(); });
        lab.append(el, val); params.appendChild(lab);
      }
      if (i > 0) {
        const up = document.createElement("button"); up.type = "button"; up.textContent = "↑";
        up.title = "move up"; up.className = "up";
        up.addEventListener("click", () => {
          [FLT.steps[i - 1], FLT.steps[i]] = [FLT.steps[i], FLT.steps[i - 1]]; renderSteps(); update();
        });
        li.appendChild(up);
      }
      const rm = document.createElement("button"); rm.type = "button"; rm.textContent = "remove";
      rm.addEventListener("click", () => { FLT.steps.splice(i, 1); renderSteps(); update(); });
      li.appendChild(rm); list.appendChild(li);
    });
  };
  const update = runner(section, async () => {
    if (!FLT.catalogue) {
      FLT.catalogue = (await api("filters")).filters;
      addSel.innerHTML = Object.keys(FLT.catalogue).map((n) => `<option>${n}</option>`).join("");
      await fillImageSelect(imgSel);
      renderSteps();
    }
    const r = await api("filters", { image: imgSel.value, steps: FLT.steps });
    $("#flt-original").src = r.original; $("#flt-result").src = r.result;
    setText("flt-n_steps", String(r.n_steps)); setText("flt-n_passes", fmt(r.n_passes));
    setText("flt-fused", r.fused);
    setWarnings(section, r.warnings); setPython(section, r.python);
  });
  $("#flt-add-btn").addEventListener("click", () => {
    FLT.steps.push({ name: addSel.value, params: {} }); renderSteps(); update();
  });
  imgSel.addEventListener("change", update);
  update();
}

// ------------------------------------------------------------------ tabs
const DEMOS = { vectors: initVectors, matrix: initMatrix, gram: initGram, lstsq: initLstsq,
                attention: initAttention, search: initSearch, svd: initSvd, filters: initFilters };
const STATUS_KEY = { vectors: "vectors", matrix: "matrix", gram: "gram_schmidt", lstsq: "lstsq",
                     attention: "attention", search: "search", svd: "svd", filters: "filters" };
const started = new Set();
let STATUS = null;

function show(demo) {
  if (!DEMOS[demo]) demo = "vectors";
  for (const b of $$("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.demo === demo));
  for (const s of $$("section.demo")) s.hidden = s.dataset.demo !== demo;
  const section = $(`#demo-${demo}`);
  if (history.replaceState) history.replaceState(null, "", "#" + demo);
  const st = STATUS && STATUS.demos[STATUS_KEY[demo]];
  if (st && !st.available) {
    if (!$(".missing", section)) {
      const div = document.createElement("div");
      div.className = "missing";
      div.textContent = `This demo needs ${st.missing.join(", ")}, which this dotwise installation ` +
        "does not provide yet. Update dotwise to use it.";
      section.insertBefore(div, $(".explain", section).nextSibling);
    }
    section.dataset.state = "unavailable";
    return;
  }
  if (!started.has(demo)) { started.add(demo); DEMOS[demo](section); }
  for (const gd of $$(".plot", section)) if (gd._fullLayout) Plotly.Plots.resize(gd);
}

function addCopyButtons() {
  for (const pre of $$("pre.python")) {
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

async function main() {
  addCopyButtons();
  try { STATUS = await api("status"); } catch (e) { STATUS = null; }
  for (const b of $$("#tabs button")) {
    const st = STATUS && STATUS.demos[STATUS_KEY[b.dataset.demo]];
    if (st && !st.available) { b.classList.add("unavailable"); b.title = "needs " + st.missing.join(", "); }
    b.addEventListener("click", () => show(b.dataset.demo));
  }
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  show(location.hash.slice(1) || "vectors");
  document.body.dataset.ready = "1";
}
main();
