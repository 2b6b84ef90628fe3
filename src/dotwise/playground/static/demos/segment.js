// dotwise playground — demo "segment": customer segmentation with k-means, in plain words.
// Every number comes from the JSON API (/api/segment); this file only draws.
"use strict";
(() => {
const FEATURES = ["age", "income", "visits_per_month", "basket_size", "online_share",
                  "days_since_last_purchase"];
const PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#c53030", "#6b46c1", "#b7791f", "#00838f", "#d53f8c"];
const HTML = `
  <h2>Customer segmentation: k-means on a table</h2>
  <p class="explain">Each customer is a row of numbers (age, income, visits...). dotwise's
    <code>segment</code> puts every column on one scale (z-scores), runs k-means — each customer
    joins the nearest centre, where ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖² is one matrix product for
    all of them — and then describes each segment by the features that set it apart. The map
    shows every customer on the first two principal axes. <b>The data is synthetic</b>: 1 000
    made-up customers from <code>dw.customer_table</code>, drawn from five invented personas;
    nothing in it describes real people.</p>
  <div class="row">
    <div class="plot square" id="seg-map"></div>
    <div class="side">
      <div class="inputs">
        <label>segments k <input type="range" id="seg-k" min="2" max="8" value="5">
          <span id="seg-k-label"></span></label>
        <label>seed <input type="number" id="seg-seed" min="0" value="0"></label>
      </div>
      <fieldset class="inputs features" id="seg-features"><legend>features (at least 2)</legend></fieldset>
      <table class="numbers">
        <tr><th>customers, features</th><td id="seg-size"></td></tr>
        <tr><th>inertia (sum of squared distances)</th><td id="seg-inertia"></td></tr>
        <tr><th>map axes show</th><td id="seg-variance"></td></tr>
      </table>
      <h3>The segments</h3>
      <ol class="profiles" id="seg-profiles" start="0"></ol>
      <div class="error" role="alert"></div><div class="warnings"></div>
    </div>
  </div>
  <h3>Lloyd's algorithm, step by step</h3>
  <p class="explain">One run of k-means from a k-means++ seed on the same standardised features:
    assign every customer to its nearest centre, move each centre to the mean of its customers,
    repeat until no one changes segment. (The segmentation above keeps the best of 10 such runs.)</p>
  <div class="row">
    <div class="plot wide" id="seg-replay"></div>
    <div class="side">
      <div class="inputs">
        <label>step <input type="range" id="seg-step" min="0" max="0" value="0">
          <span id="seg-step-label"></span></label>
        <button type="button" id="seg-play">play</button>
      </div>
      <div class="plot wide short" id="seg-inertia-plot"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

const SEG = { features: FEATURES.slice(), last: null };
function initSegment(section) {
  const mapGd = $("#seg-map"), replayGd = $("#seg-replay"), stepEl = $("#seg-step");
  const box = $("#seg-features");
  FEATURES.forEach((f) => {
    const lab = document.createElement("label");
    lab.innerHTML = `<input type="checkbox" value="${f}" checked> ${f.replace(/_/g, " ")}`;
    box.appendChild(lab);
  });
  // one trace per segment: the points grouped by their label (display only)
  const groups = (r, labels, k) => [...Array(k).keys()].map((s) => {
    const idx = labels.map((l, i) => (l === s ? i : -1)).filter((i) => i >= 0);
    return { type: "scatter", mode: "markers", name: `segment ${s}`,
             x: idx.map((i) => r.map[i][0]), y: idx.map((i) => r.map[i][1]),
             marker: { size: 4, opacity: 0.6, color: PALETTE[s % PALETTE.length] }, hoverinfo: "skip" };
  });
  const axes = (r) => ({
    xaxis: { title: { text: `PC 1 (${fmt(r.map_variance[0] * 100)} % of the variance)` }, zeroline: false },
    yaxis: { title: { text: `PC 2 (${fmt(r.map_variance[1] * 100)} %)` }, zeroline: false },
  });
  const drawStep = () => {
    const r = SEG.last;
    if (!r) return;
    const s = Math.min(Number(stepEl.value), r.steps.length - 1), st = r.steps[s];
    setText("seg-step-label", `${s} of ${r.steps.length - 1}: inertia ${fmt(st.inertia)}` +
      (s === 0 ? " (the k-means++ seeds)" : s === r.steps.length - 1 && r.steps_converged ? " (converged: no change)" : ""));
    const centres = { type: "scatter", mode: "markers", name: "centres", x: st.centres_map.map((c) => c[0]),
      y: st.centres_map.map((c) => c[1]), hoverinfo: "skip",
      marker: { symbol: "x", size: 14, color: "#1a202c", line: { width: 2, color: "#fff" } } };
    Plotly.react(replayGd, [...groups(r, st.labels, r.k), centres], {
      margin: { l: 56, r: 10, t: 30, b: 48 }, showlegend: false, dragmode: false,
      title: { text: `step ${s}: labels and centres`, font: { size: 14 } }, ...axes(r) }, PLOT_CONFIG);
    Plotly.react($("#seg-inertia-plot"), [{ type: "scatter", mode: "lines+markers",
      x: r.steps.map((_, i) => i), y: r.steps.map((t) => t.inertia), line: { color: COLORS.accent } },
      { type: "scatter", mode: "markers", x: [s], y: [st.inertia], marker: { size: 12, color: COLORS.orange } }], {
      margin: { l: 60, r: 10, t: 28, b: 40 }, showlegend: false, dragmode: false,
      title: { text: "inertia per step (never increases)", font: { size: 13 } },
      xaxis: { title: { text: "step" }, dtick: 1 }, yaxis: { title: { text: "inertia" } } }, PLOT_CONFIG);
  };
  const update = runner(section, async () => {
    const k = Number($("#seg-k").value);
    setText("seg-k-label", String(k));
    const r = await api("segment", { k, features: SEG.features, seed: Number($("#seg-seed").value) });
    SEG.last = r;
    setText("seg-size", `${r.n_rows} synthetic customers, ${r.features.length} features`);
    setText("seg-inertia", fmt(r.inertia));
    setText("seg-variance", `${fmt(r.map_variance[0] * 100)} % + ${fmt(r.map_variance[1] * 100)} % of the variance`);
    $("#seg-profiles").innerHTML = r.segments.map((s) =>
      `<li data-size="${s.size}"><span class="swatch" style="background:${PALETTE[s.segment % PALETTE.length]}"></span>` +
      `<b>${s.name}</b> — ${s.size} customers (${fmt(s.share * 100)} %)<br><span class="muted">${s.description}</span></li>`).join("");
    setWarnings(section, r.warnings); setPython(section, r.python);
    Plotly.react(mapGd, groups(r, r.labels, r.k), {
      margin: { l: 56, r: 10, t: 30, b: 48 }, dragmode: false,
      title: { text: `${r.k} segments on the 2-D PCA map`, font: { size: 14 } },
      legend: { orientation: "h", y: -0.22, yanchor: "top" }, ...axes(r) }, PLOT_CONFIG);
    stepEl.max = String(r.steps.length - 1);
    stepEl.value = String(r.steps.length - 1);
    drawStep();
  });
  let timer = null;
  const stop = () => { if (timer) { clearInterval(timer); timer = null; $("#seg-play").textContent = "play"; } };
  $("#seg-play").addEventListener("click", () => {
    if (timer) { stop(); return; }
    stepEl.value = "0"; drawStep();
    $("#seg-play").textContent = "stop";
    timer = setInterval(() => {
      if (Number(stepEl.value) >= Number(stepEl.max)) { stop(); return; }
      stepEl.value = String(Number(stepEl.value) + 1); drawStep();
    }, 600);
  });
  stepEl.addEventListener("input", () => { stop(); drawStep(); });
  $("#seg-k").addEventListener("input", () => { stop(); update(); });
  $("#seg-seed").addEventListener("change", () => { stop(); update(); });
  box.addEventListener("change", () => {
    SEG.features = $$("input:checked", box).map((el) => el.value);
    stop(); update();  // fewer than 2: the API answers 422 and the page shows why
  });
  update();
}

dotwise.registerDemo({ id: "segment", state: SEG, mount(section) { section.innerHTML = HTML; initSegment(section); } });
})();
