// dotwise playground — demo "gram": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Gram–Schmidt, step by step</h2>
  <p class="explain">Gram–Schmidt turns vectors into an orthonormal basis with dot products
    alone: from each vector, subtract its projections onto the directions already found
    (dashed), then scale what remains to length one. Classical Gram–Schmidt projects the
    original vector; modified Gram–Schmidt projects the running remainder, which is the same in
    exact arithmetic but loses far less orthogonality in floating point — see the chart below
    for nearly dependent columns (a Hilbert matrix). Re-orthogonalizing (doing the pass
    twice) brings the loss down to rounding level.</p>
  <div class="row">
    <div class="plot square" id="gs-plot"></div>
    <div class="side">
      <div class="inputs">
        <div id="gs-grid" class="matrix-input" title="one vector per row"></div>
        <label>method <select id="gs-method">
          <option value="classical">classical</option>
          <option value="modified" selected>modified</option>
          <option value="reorthogonalized">reorthogonalized</option></select></label>
        <label>step <input type="range" id="gs-step" min="1" max="3" value="3">
          <span id="gs-step-label"></span></label>
      </div>
      <table class="numbers">
        <tr><th>step</th><td id="gs-step-text"></td></tr>
        <tr><th>subtracted (in order)</th><td id="gs-projections"></td></tr>
        <tr><th>‖remainder‖ = R<sub>kk</sub></th><td id="gs-remainder"></td></tr>
        <tr><th>‖QᵀQ − I‖</th><td id="gs-loss"></td></tr>
        <tr><th>Q (columns)</th><td id="gs-Q"></td></tr>
        <tr><th>R</th><td id="gs-R"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
  <div class="row">
    <div class="plot wide" id="gs-loss-plot"></div>
    <div class="side">
      <label>Hilbert matrix size n <input type="range" id="gs-n" min="2" max="14" value="8">
        <span id="gs-n-label"></span></label>
      <table class="numbers" id="gs-loss-table"></table>
      <h3>Python</h3><pre class="python python-loss"></pre>
    </div>
  </div>
`;

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
    const how = { classical: "all computed from the original v" + s,
                  modified: "each computed from the running remainder",
                  reorthogonalized: "in two classical passes (the second removes what rounding left)" }[r.method];
    setText("gs-step-text", s === 1 ? "v1 scaled to length 1 (nothing to subtract yet)"
      : `v${s} minus its projections on ${onto} (${how}), then scaled to length 1`);
    setText("gs-projections", st.projections.length ? st.projections.map((p) =>
      `${r.passes > 1 ? `pass ${p.pass}: ` : ""}${fmt(p.coefficient)} · q${p.onto + 1}`).join("\n") : "—");
    setText("gs-remainder", fmt(st.remainder_norm));
    const traces = r.steps.map((t, i) => line3(t.vector, "#a0aec0", 3, "solid", `v${i + 1}`));
    for (let i = 0; i < s - 1; i++) traces.push(line3(r.steps[i].q, COLORS.blue, 8, "solid", `q${i + 1}`));
    traces.push(line3(st.vector, COLORS.orange, 6, "solid", `v${s}`));
    st.projections.forEach((p) => traces.push(line3(p.vector, p.pass > 1 ? COLORS.red : COLORS.accent, 5, "dash",
      `${p.pass > 1 ? "pass 2: " : ""}proj on q${p.onto + 1}`)));
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
    setText("gs-n-label", `n = ${r.n}, cond(H) = ${fmt(r.cond)}` +
      (r.rank < r.n ? ` (numerically singular: rank ${r.rank} of ${r.n})` : ""));
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

dotwise.registerDemo({ id: "gram", state: GS, mount(section) { section.innerHTML = HTML; initGram(section); } });
})();
