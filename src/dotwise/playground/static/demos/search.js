// dotwise playground — demo "search": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Similarity search</h2>
  <p class="explain">Each 8×8 digit from scikit-learn's digits set is a vector of 64 pixel
    values. Searching for "images like this one" is ranking all 1 797 vectors by a dot product:
    cosine similarity compares directions only (a faint and a bold 3 match), L2 distance compares
    the pixels themselves, and the raw dot product favours bright, heavy digits. Click a digit on
    the PCA map (the two directions of greatest variance) or paint your own in the grid (shift+click erases), and see
    its nearest neighbours.</p>
  <div class="row">
    <div class="plot square" id="srch-map"></div>
    <div class="side">
      <div class="inputs">
        <label>digit # <input type="number" id="srch-index" min="0" max="1796" value="0"></label>
        <label>metric <select id="srch-metric"><option>cosine</option><option>l2</option>
          <option>dot</option></select></label>
        <label>k <input type="number" id="srch-k" min="1" max="20" value="8"></label>
      </div>
      <div class="paint">
        <canvas id="srch-paint" width="160" height="160" title="click or drag to paint"></canvas>
        <div><button id="srch-paint-search" type="button">search my drawing</button>
          <button id="srch-paint-clear" type="button">clear</button></div>
      </div>
      <div class="inputs">
        <label>or type 64 values (0–16, row by row)
          <input type="text" id="srch-typed" placeholder="0 0 5 13 9 1 0 0 …"></label>
        <button id="srch-typed-search" type="button">search these values</button>
      </div>
      <p>query: <span id="srch-query"></span></p>
      <div id="srch-results" class="thumbs"></div>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

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

dotwise.registerDemo({ id: "search", state: SRCH, mount(section) { section.innerHTML = HTML; initSearch(section); } });
})();
