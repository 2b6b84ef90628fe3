// dotwise playground — demo "lstsq": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Least squares by projection</h2>
  <p class="explain">Click to add points (click a point to remove it). Fitting a polynomial is
    solving Ax ≈ y with the columns 1, x, x², … of A: no exact solution exists, so least squares
    picks the point Ax̂ of the column space closest to y — the projection of y onto col(A). The
    residual r = y − Ax̂ (grey segments) is then orthogonal to every column, so Aᵀr ≈ 0: the
    normal equations. Ridge adds α‖x‖² and trades a little fit for smaller, steadier
    coefficients — slide α to watch the curve relax.</p>
  <div class="row">
    <div class="plot square" id="ls-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>degree <select id="ls-degree"></select></label>
        <label>ridge α <input type="range" id="ls-alpha" min="0" max="8" value="0">
          <span id="ls-alpha-label"></span></label>
        <button id="ls-undo" type="button">undo</button>
        <button id="ls-clear" type="button">clear</button>
      </div>
      <table class="numbers">
        <tr><th>coefficients x̂ (1, x, x², …)</th><td id="ls-coef"></td></tr>
        <tr><th>‖r‖</th><td id="ls-residual_norm"></td></tr>
        <tr><th>Aᵀr (≈ 0)</th><td id="ls-At_r"></td></tr>
        <tr><th>rank, cond(A)</th><td id="ls-rank"></td></tr>
        <tr><th>method chosen</th><td id="ls-method"></td></tr>
        <tr><th>ridge coefficients</th><td id="ls-ridge"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

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

dotwise.registerDemo({ id: "lstsq", state: LS, mount(section) { section.innerHTML = HTML; initLstsq(section); } });
})();
