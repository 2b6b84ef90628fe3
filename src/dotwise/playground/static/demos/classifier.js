// dotwise playground — demo "classifier": a linear classifier reads a digit, and says why.
// Every number comes from the JSON API (/api/classifier); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>A linear classifier: why it read this as a <span id="clf-title-class">3</span></h2>
  <p class="explain">A linear classifier gives every class c a weight vector w<sub>c</sub> (64
    weights, one per pixel) and scores a digit x by a dot product, score(c) = w<sub>c</sub> · x +
    b<sub>c</sub>; a softmax turns the ten scores into probabilities. Because the score is a sum
    over pixels, it splits exactly into per-pixel contributions w<sub>c,i</sub> x<sub>i</sub>: red
    squares pushed towards the class, blue ones against it. The model is dotwise's
    <code>SoftmaxRegression</code>, fitted once on the first 1 347 of scikit-learn's 1 797 digits;
    pick a digit (the last 450 were never seen in training) or paint your own.</p>
  <div class="row">
    <div class="side narrow">
      <div class="inputs">
        <label>digit # <input type="number" id="clf-index" min="0" max="1796" value="1400"></label>
        <button id="clf-random" type="button">another test digit</button>
      </div>
      <div class="paint">
        <canvas id="clf-paint" width="160" height="160" title="click or drag to paint; shift+click erases"></canvas>
        <div><button id="clf-paint-use" type="button">classify my drawing</button>
          <button id="clf-paint-clear" type="button">clear</button>
          <p class="hint">paint, then release: it is read at once</p></div>
      </div>
      <table class="numbers">
        <tr><th>digit</th><td id="clf-query"></td></tr>
        <tr><th>predicted</th><td id="clf-predicted"></td></tr>
        <tr><th>runner-up</th><td id="clf-runner"></td></tr>
        <tr><th>score = Σ w·x + b</th><td id="clf-scores"></td></tr>
        <tr><th>held-out accuracy</th><td id="clf-accuracy"></td></tr>
      </table>
    </div>
    <div class="plot wide" id="clf-proba"></div>
  </div>
  <div class="row heatmaps">
    <div class="plot heat" id="clf-heat-pred"></div>
    <div class="plot heat" id="clf-heat-runner"></div>
    <div class="plot heat" id="clf-heat-margin"></div>
  </div>
  <div class="row">
    <div class="side">
      <h3>In words (str of the explanation)</h3><pre class="explanation" id="clf-explanation"></pre>
      <div class="error" role="alert"></div><div class="warnings"></div>
    </div>
    <div class="side"><h3>Python</h3><pre class="python"></pre></div>
  </div>
`;

const CLF = { paint: new Array(64).fill(0), query: { index: 1400 }, last: null };
function initClassifier(section) {
  const paint = $("#clf-paint");
  const heat = (gd, z, title) => Plotly.react(gd, [{
    type: "heatmap", z, zmid: 0, colorscale: "RdBu", xgap: 1, ygap: 1,
    hovertemplate: "row %{y}, column %{x}: %{z:.3f}<extra></extra>",
    colorbar: { thickness: 10, len: 0.9 } }], {
    margin: { l: 24, r: 8, t: 48, b: 20 }, title: { text: title, font: { size: 13 } },
    xaxis: { showticklabels: false, ticks: "", showgrid: false, zeroline: false, fixedrange: true, constrain: "domain" },
    yaxis: { autorange: "reversed", showticklabels: false, ticks: "", showgrid: false, zeroline: false,
             fixedrange: true, scaleanchor: "x" },
  }, PLOT_CONFIG);
  const update = runner(section, async () => {
    const r = await api("classifier", CLF.query);
    CLF.last = r;
    const p = r.classes.indexOf(r.predicted), q = r.classes.indexOf(r.runner_up);
    setText("clf-query", r.label === null ? "your drawing"
      : `#${CLF.query.index}: a ${r.label} (${r.in_training_set ? "seen in training" : "held out"})`);
    setText("clf-predicted", `${r.predicted}  (probability ${fmt(r.probabilities[p])})`);
    setText("clf-runner", `${r.runner_up}  (probability ${fmt(r.probabilities[q])})`);
    setText("clf-scores", `score(${r.predicted}) = ${fmt(r.scores[p])}\nscore(${r.runner_up}) = ${fmt(r.scores[q])}`);
    setText("clf-accuracy", `${fmt(r.test_accuracy)} on ${r.n_test} unseen digits`);
    setText("clf-explanation", r.explanation);
    setText("clf-title-class", String(r.predicted));
    setWarnings(section, r.warnings); setPython(section, r.python);
    if (r.label !== null) drawDigit(paint, r.pixels, 20, true);
    const colors = r.classes.map((c, i) => (i === p ? COLORS.accent : i === q ? COLORS.orange : "#a0aec0"));
    Plotly.react($("#clf-proba"), [{ type: "bar", x: r.classes.map(String), y: r.probabilities,
      marker: { color: colors }, text: r.probabilities.map(fmt), textposition: "outside",
      cliponaxis: false, hovertemplate: "class %{x}: %{y:.4f}<extra></extra>" }], {
      margin: { l: 50, r: 10, t: 36, b: 40 }, dragmode: false,
      title: { text: "softmax of the ten scores: P(class | digit)", font: { size: 14 } },
      xaxis: { title: { text: "class" }, type: "category", fixedrange: true },
      yaxis: { range: [0, 1.15], fixedrange: true, title: { text: "probability" } } }, PLOT_CONFIG);
    heat($("#clf-heat-pred"), r.contributions_predicted, `w<sub>${r.predicted},i</sub>·x<sub>i</sub>: towards ${r.predicted}`);
    heat($("#clf-heat-runner"), r.contributions_runner_up, `w<sub>${r.runner_up},i</sub>·x<sub>i</sub>: towards ${r.runner_up}`);
    heat($("#clf-heat-margin"), r.margin, `difference: ${r.predicted} rather than ${r.runner_up}`);
  });
  const byIndex = (i) => { CLF.query = { index: i }; $("#clf-index").value = String(i); update(); };
  $("#clf-index").addEventListener("change", (ev) => byIndex(Number(ev.target.value)));
  $("#clf-random").addEventListener("click", () => {
    const i = Number($("#clf-index").value);
    byIndex(i >= 1347 && i < 1796 ? i + 1 : 1347);  // walk through the held-out digits
  });
  const useDrawing = () => { CLF.query = { pixels: CLF.paint.slice() }; update(); };
  bindDigitPainter(paint, () => {
    if (CLF.query.index !== undefined && CLF.last) { CLF.paint = CLF.last.pixels.slice(); }
    CLF.query = { pixels: CLF.paint };
    return CLF.paint;
  }, 20, useDrawing);
  $("#clf-paint-use").addEventListener("click", useDrawing);
  $("#clf-paint-clear").addEventListener("click", () => {
    CLF.paint = new Array(64).fill(0); CLF.query = { pixels: CLF.paint };
    drawDigit(paint, CLF.paint, 20, true);
  });
  drawDigit(paint, CLF.paint, 20, true);
  update();
}

dotwise.registerDemo({ id: "classifier", state: CLF, mount(section) { section.innerHTML = HTML; initClassifier(section); } });
})();
