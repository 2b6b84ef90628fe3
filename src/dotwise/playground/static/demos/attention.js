// dotwise playground — demo "attention": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Attention</h2>
  <p class="explain">Attention is a table of dot products: each query row of Q is dotted with
    every key row of K, the scores are scaled (by 1/√d, so their spread does not grow with the
    dimension, and by 1/temperature), turned into weights by a softmax along each row, and the
    output is the weighted average of the rows of V. The heatmap shows the weights (rows sum to
    1). Without √d scaling or at low temperature the rows become nearly one-hot (low entropy);
    a causal mask lets each token attend only to itself and earlier tokens. Edit Q, K, V (one row
    per token) or draw new random ones.</p>
  <div class="row">
    <div class="plot square" id="att-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>tokens <input type="text" id="att-tokens" value="the cat sat on the mat"></label>
        <label>d <input type="number" id="att-d" min="1" max="16" value="4"></label>
        <label>seed <input type="number" id="att-seed" min="0" value="0"></label>
        <button id="att-random" type="button">new random Q, K, V</button>
        <label><input type="checkbox" id="att-scaled" checked> scale by 1/√d</label>
        <label><input type="checkbox" id="att-causal"> causal mask</label>
        <label>temperature <input type="range" id="att-temp" min="0.1" max="5" step="0.1" value="1">
          <span id="att-temp-label"></span></label>
      </div>
      <div class="qkv">
        <label>Q<textarea id="att-q" rows="6" spellcheck="false"></textarea></label>
        <label>K<textarea id="att-k" rows="6" spellcheck="false"></textarea></label>
        <label>V<textarea id="att-v" rows="6" spellcheck="false"></textarea></label>
      </div>
      <table class="numbers">
        <tr><th>scale used</th><td id="att-scale"></td></tr>
        <tr><th>entropy per row (nats)</th><td id="att-entropy"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
  <div class="plot wide short" id="att-entropy-plot"></div>
`;

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

dotwise.registerDemo({ id: "attention", state: ATT, mount(section) { section.innerHTML = HTML; initAttention(section); } });
})();
