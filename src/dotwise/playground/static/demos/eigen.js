// dotwise playground — demo "eigen": eigenvectors only stretch; power iteration finds one.
// Every number comes from the JSON API (/api/eigen); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Eigenvectors: the directions a matrix only stretches</h2>
  <p class="explain">A matrix turns the unit circle (grey) into an ellipse (blue). Most directions
    are turned as well as stretched; an <b class="c-accent">eigenvector</b> v is only stretched,
    A v = λ v — its image stays on its own line (purple dashed). A symmetric matrix has
    perpendicular eigenvectors along the ellipse's axes (the spectral theorem); a shear has only
    one eigen-direction (defective) and a rotation none that is real. <b>Power iteration</b>
    multiplies a start vector by A again and again and rescales it: step through it and watch
    x<sub>k</sub> (orange) swing towards the dominant eigenvector, at a rate |λ₂/λ₁| per step.</p>
  <div class="row">
    <div class="plot square" id="eig-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>size <select id="eig-n"><option value="2">2 × 2</option>
          <option value="3">3 × 3</option></select></label>
        <label>preset <select id="eig-preset"></select></label>
        <div id="eig-grid" class="matrix-input"></div>
      </div>
      <div class="inputs">
        <label>power-iteration step k <input type="range" id="eig-steps" min="0" max="40" value="8">
          <span id="eig-steps-label"></span></label>
        <button id="eig-step" type="button">step</button>
        <button id="eig-reset" type="button">reset</button>
      </div>
      <table class="numbers">
        <tr><th>kind</th><td id="eig-kind"></td></tr>
        <tr><th>real eigenpairs λ, v</th><td id="eig-pairs"></td></tr>
        <tr><th>|λ₂/λ₁| (rate per step)</th><td id="eig-ratio"></td></tr>
        <tr><th>x<sub>k</sub></th><td id="eig-xk"></td></tr>
        <tr><th>Rayleigh quotient x<sub>k</sub>ᵀA x<sub>k</sub></th><td id="eig-quotient"></td></tr>
        <tr><th>‖A x<sub>k</sub> − λ x<sub>k</sub>‖</th><td id="eig-residual"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
  <div class="plot wide short" id="eig-conv"></div>
`;

const EIG = { n: 2, A: [[2, 1], [1, 2]], presets: {}, last: null };
function initEigen(section) {
  const gd = $("#eig-plot"), conv = $("#eig-conv"), grid = $("#eig-grid");
  const presetSel = $("#eig-preset"), stepsEl = $("#eig-steps");
  const buildInputs = () => {
    grid.innerHTML = "";
    grid.style.gridTemplateColumns = `repeat(${EIG.n}, auto)`;
    EIG.A.forEach((row, i) => row.forEach((x, j) => {
      const el = document.createElement("input");
      el.type = "number"; el.step = "0.1"; el.value = String(Number(x.toPrecision(4)));
      el.id = `eig-a${i}${j}`;
      el.addEventListener("change", () => { EIG.A[i][j] = num(el); presetSel.value = ""; update(); });
      grid.appendChild(el);
    }));
  };
  const loadPresets = async () => {
    const r = await api("eigen/presets?n=" + EIG.n);
    EIG.presets = r.presets;
    presetSel.innerHTML = '<option value="">(custom)</option>' + Object.keys(r.presets)
      .map((k) => `<option>${k}</option>`).join("");
  };
  const draw2d = (r) => {
    const k = r.iterates.length - 1, xk = r.iterates[k];
    const traces = [
      { x: r.circle[0].map((p) => p[0]), y: r.circle[0].map((p) => p[1]), mode: "lines",
        line: { color: "#a0aec0", width: 1.5, dash: "dot" }, hoverinfo: "skip" },
      { x: r.ellipse[0].map((p) => p[0]), y: r.ellipse[0].map((p) => p[1]), mode: "lines",
        fill: "toself", fillcolor: "rgba(43,108,176,0.10)", line: { color: COLORS.blue, width: 2 },
        hoverinfo: "skip" },
      ...r.eigen.map((e) => segTrace([e.segment], { line: { color: COLORS.accent, dash: "dash", width: 1.5 } })),
      { x: r.iterates.map((p) => p[0]), y: r.iterates.map((p) => p[1]), mode: "markers",
        marker: { size: 7, color: r.iterates.map((_, i) => i), colorscale: [[0, "#fbd38d"], [1, "#c05621"]] },
        hoverinfo: "skip" },
    ];
    const ann = [
      ...r.eigen.map((e) => arrow(e.vector, COLORS.accent)),
      ...r.eigen_images.map((p, i) => arrow(p, "rgba(85,60,154,0.45)")),
      ...r.eigen.map((e, i) => label(r.eigen_images[i], `λ${i + 1}v${i + 1}`, COLORS.accent)),
      arrow(xk, COLORS.orange), label(xk, `x${k}`, COLORS.orange),
    ];
    Plotly.react(gd, traces, { ...plane(3.5), annotations: ann }, PLOT_CONFIG);
  };
  const draw3d = (r) => {
    const k = r.iterates.length - 1, o = [0, 0, 0];
    const loop = (pts, style) => ({ type: "scatter3d", mode: "lines", x: pts.map((p) => p[0]),
      y: pts.map((p) => p[1]), z: pts.map((p) => p[2]), hoverinfo: "skip", showlegend: false, ...style });
    const traces = [
      ...r.circle.map((c) => loop(c, { line: { color: "#a0aec0", width: 2 } })),
      ...r.ellipse.map((c) => loop(c, { line: { color: COLORS.blue, width: 4 } })),
      ...r.eigen.map((e) => segTrace([e.segment], { line: { color: COLORS.accent, width: 3, dash: "dash" } }, true)),
      segTrace([[o, r.iterates[k]]], { line: { color: COLORS.orange, width: 8 } }, true),
      { type: "scatter3d", mode: "markers", x: r.iterates.map((p) => p[0]), y: r.iterates.map((p) => p[1]),
        z: r.iterates.map((p) => p[2]), marker: { size: 3, color: COLORS.orange }, hoverinfo: "skip", showlegend: false },
    ];
    const ax = { range: [-3.5, 3.5], autorange: false };
    Plotly.react(gd, traces, { margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false,
      scene: { xaxis: ax, yaxis: ax, zaxis: ax, aspectmode: "cube" } }, PLOT_CONFIG);
  };
  const update = runner(section, async () => {
    const steps = Number(stepsEl.value);
    setText("eig-steps-label", String(steps));
    const r = await api("eigen", { matrix: EIG.A, steps });
    EIG.last = r;
    const kind = r.symmetric ? "symmetric: real λ, perpendicular eigenvectors (A = VΛVᵀ)"
      : r.defective ? "defective: too few eigenvectors, not diagonalizable"
      : `diagonalizable (A = VΛV⁻¹), cond(V) = ${fmt(r.cond_V)}`;
    setText("eig-kind", kind + (r.complex_eigenvalues.length
      ? `\ncomplex λ: ${r.complex_eigenvalues.join(", ")} — no real direction is only stretched` : ""));
    setText("eig-pairs", r.eigen.map((e) => `λ = ${fmt(e.value)}  v = ${fmtVec(e.vector)}`).join("\n") || "—");
    setText("eig-ratio", r.ratio === null ? "—" : fmt(r.ratio) + (r.ratio >= 0.9999 ? " (|λ₁| = |λ₂|: no geometric rate — it wanders, or crawls like 1/k for a repeated λ)" : ""));
    const k = r.iterates.length - 1;
    setText("eig-xk", `${fmtVec(r.iterates[k])}  (k = ${k}${r.converged ? ", converged" : ""})`);
    setText("eig-quotient", k ? fmt(r.quotients[k - 1]) : "—");
    setText("eig-residual", k ? fmt(r.residuals[k - 1]) : "—");
    setWarnings(section, r.warnings); setPython(section, r.python);
    if (r.n === 2) draw2d(r); else draw3d(r);
    const ks = r.residuals.map((_, i) => i + 1);
    const traces = [{ x: ks, y: r.residuals, mode: "lines+markers", name: "‖A xₖ − λ xₖ‖",
                      line: { color: COLORS.orange } }];
    if (r.ratio !== null && r.residuals.length && r.ratio > 0) {
      traces.push({ x: ks, y: r.residuals.map((_, i) => r.residuals[0] * r.ratio ** i), mode: "lines",
                    name: "|λ₂/λ₁|ᵏ (scaled)", line: { color: COLORS.accent, dash: "dash" } });
    }
    Plotly.react(conv, traces, { margin: { l: 60, r: 10, t: 30, b: 40 },
      title: { text: "power iteration: residual per step", font: { size: 14 } },
      yaxis: { type: "log", exponentformat: "power" }, xaxis: { title: { text: "k" } },
      legend: { orientation: "h", x: 0.5, y: 1.15 } }, PLOT_CONFIG);
  });
  stepsEl.addEventListener("input", update);
  $("#eig-step").addEventListener("click", () => {
    stepsEl.value = String(Math.min(Number(stepsEl.value) + 1, Number(stepsEl.max))); update();
  });
  $("#eig-reset").addEventListener("click", () => { stepsEl.value = "0"; update(); });
  presetSel.addEventListener("change", () => {
    const m = EIG.presets[presetSel.value];
    if (!m) return;
    EIG.A = m.map((row) => row.slice()); buildInputs(); update();
  });
  $("#eig-n").addEventListener("change", async (ev) => {
    EIG.n = Number(ev.target.value);
    try { await loadPresets(); } catch (e) { setError(section, e.message); return; }
    EIG.A = EIG.presets.symmetric.map((row) => row.slice());
    presetSel.value = "symmetric";
    Plotly.purge(gd);
    buildInputs(); update();
  });
  buildInputs();
  loadPresets().then(() => { presetSel.value = "symmetric"; }).catch((e) => setError(section, e.message));
  update();
}

dotwise.registerDemo({ id: "eigen", state: EIG, mount(section) { section.innerHTML = HTML; initEigen(section); } });
})();
