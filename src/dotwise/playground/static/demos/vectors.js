// dotwise playground — demo "vectors": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Dot product &amp; projection</h2>
  <p class="explain">Drag the tips of <b class="c-u">u</b> and <b class="c-v">v</b>. The dot product
    u·v = ‖u‖‖v‖cos θ measures how much the two point the same way: positive when the angle is
    acute, zero when they are perpendicular, negative when obtuse. Dividing by ‖v‖ gives the
    signed length of u's shadow on v (the scalar projection); the <b class="c-p">vector
    projection</b> is that shadow as a vector, and what is left over — the <b>residual</b>
    u − proj, dashed — is always perpendicular to v.</p>
  <div class="row">
    <div class="plot square" id="vec-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>u = (<input type="number" step="0.1" id="vec-u0" value="3">,
          <input type="number" step="0.1" id="vec-u1" value="2">)</label>
        <label>v = (<input type="number" step="0.1" id="vec-v0" value="4">,
          <input type="number" step="0.1" id="vec-v1" value="-1">)</label>
      </div>
      <table class="numbers">
        <tr><th>u · v</th><td id="vec-dot"></td></tr>
        <tr><th>‖u‖</th><td id="vec-norm_u"></td></tr>
        <tr><th>‖v‖</th><td id="vec-norm_v"></td></tr>
        <tr><th>cos θ</th><td id="vec-cosine"></td></tr>
        <tr><th>θ (degrees)</th><td id="vec-angle_degrees"></td></tr>
        <tr><th>scalar projection u·v / ‖v‖</th><td id="vec-scalar_projection"></td></tr>
        <tr><th>vector projection</th><td id="vec-vector_projection"></td></tr>
        <tr><th>residual u − proj</th><td id="vec-residual"></td></tr>
        <tr><th>(u − proj) · v</th><td id="vec-residual_dot_v"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

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

dotwise.registerDemo({ id: "vectors", state: VEC, mount(section) { section.innerHTML = HTML; initVectors(section); } });
})();
