// dotwise playground — demo "svd": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>SVD image compression</h2>
  <p class="explain">A photo is a matrix (one per colour channel). The singular value
    decomposition writes it as a sum of rank-one layers σᵢuᵢvᵢᵀ, largest first; keeping only the
    first r layers is the best rank-r approximation, and storing r columns of U and V instead of
    every pixel is the compression. Slide the rank and compare the reconstruction, its PSNR, the
    stored size, and where the cut falls on the singular value spectrum.</p>
  <div class="row">
    <div class="images">
      <figure><img id="svd-original" alt="original"><figcaption>original</figcaption></figure>
      <figure><img id="svd-reconstruction" alt="reconstruction">
        <figcaption>rank-<span id="svd-rank-cap"></span> reconstruction</figcaption></figure>
    </div>
    <div class="side">
      <div class="inputs">
        <label>photo <select class="image-select" id="svd-image"></select></label>
        <label>rank <input type="range" id="svd-rank" min="1" max="128" value="20">
          <span id="svd-rank-label"></span></label>
      </div>
      <table class="numbers">
        <tr><th>PSNR (dB)</th><td id="svd-psnr"></td></tr>
        <tr><th>stored bytes</th><td id="svd-nbytes"></td></tr>
        <tr><th>size ratio (compressed / raw)</th><td id="svd-ratio"></td></tr>
        <tr><th>energy kept Σσᵢ² (i ≤ r) / Σσᵢ²</th><td id="svd-energy"></td></tr>
        <tr><th>image size</th><td id="svd-size"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
  <div class="plot wide short" id="svd-spectrum"></div>
`;

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

dotwise.registerDemo({ id: "svd", mount(section) { section.innerHTML = HTML; initSvd(section); } });
})();
