// dotwise playground — demo "matrix": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Matrix transformation</h2>
  <p class="explain">A matrix is a list of dot products: each entry of Ax is a row of A dotted
    with x, so the columns of A are where the basis vectors land. Edit the matrix or pick a
    preset and watch the grid and the unit square (or cube) move. The determinant is the signed
    area (volume) of the transformed square (cube) — negative when orientation flips. A singular
    matrix (det = 0, rank &lt; n) flattens space onto a line or a plane; the condition number
    says how much it can stretch errors, and eigenvectors are the directions it only scales.</p>
  <div class="row">
    <div class="plot square" id="mat-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>size <select id="mat-n"><option value="2">2 × 2</option>
          <option value="3">3 × 3</option></select></label>
        <label>preset <select id="mat-preset"></select></label>
        <div id="mat-grid" class="matrix-input"></div>
        <label>morph I → A <input type="range" id="mat-t" min="0" max="1" step="0.05" value="1">
          <span id="mat-t-label"></span></label>
      </div>
      <table class="numbers">
        <tr><th>det (signed area/volume)</th><td id="mat-det"></td></tr>
        <tr><th>rank</th><td id="mat-rank"></td></tr>
        <tr><th>condition number</th><td id="mat-cond"></td></tr>
        <tr><th>real eigenpairs</th><td id="mat-eigen"></td></tr>
      </table>
      <p class="note" id="mat-note"></p>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

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
    setText("mat-cond", r.rank < r.n ? "∞ (singular)" : fmt(r.cond));
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

dotwise.registerDemo({ id: "matrix", state: MAT, mount(section) { section.innerHTML = HTML; initMatrix(section); } });
})();
