// dotwise playground — demo "transform": a 2-D game scene moved by composed 3×3 matrices.
// Every number comes from the JSON API (/api/transform); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>2-D transformations: a small game scene</h2>
  <p class="explain">Games move shapes with 3×3 matrices in homogeneous coordinates: a point
    (x, y) becomes (x, y, 1), so rotation, scaling, shear, reflection <i>and</i> translation are
    all matrices, and each new coordinate is a dot product of a matrix row with (x, y, 1). A chain
    of steps is one matrix product — each new step multiplies from the <b>left</b>, so after steps
    S₁, S₂, S₃ the shape is moved by S₃·S₂·S₁. Order matters: turning about the shape's own
    centre and then flying away is not flying away and then turning about the origin. Add,
    remove and reorder steps; the partial product after every step is shown below the scene.</p>
  <div class="row">
    <div class="plot square" id="tf-plot"></div>
    <div class="side">
      <div class="inputs">
        <label>shape <select id="tf-shape"><option>ship</option><option>house</option></select></label>
        <label>preset <select id="tf-preset"></select></label>
      </div>
      <ol class="steps" id="tf-steps"></ol>
      <div class="inputs">
        <label>add <select id="tf-add"><option value="rotate">rotate</option><option value="scale">scale</option>
          <option value="shear">shear</option><option value="reflect">reflect</option>
          <option value="translate">translate</option></select></label>
        <button type="button" id="tf-add-btn">add step</button>
      </div>
      <table class="numbers">
        <tr><th>final matrix M = Sₙ ··· S₂ · S₁</th><td id="tf-final"></td></tr>
        <tr><th>centre of the shape</th><td id="tf-centre"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
    </div>
  </div>
  <h3>The product as it is built</h3>
  <div class="products" id="tf-products"></div>
  <h3>Python</h3><pre class="python"></pre>
`;

const DEFAULTS = { rotate: { angle: 45, about: "centre" }, scale: { sx: 1.5, sy: 1.5, about: "centre" },
                   shear: { kx: 0.5, ky: 0 }, reflect: { axis: "y" }, translate: { tx: 3, ty: 1 } };
const PARAMS = { rotate: [["angle", "angle °", 5]], scale: [["sx", "sx", 0.1], ["sy", "sy", 0.1]],
                 shear: [["kx", "kx", 0.1], ["ky", "ky", 0.1]], translate: [["tx", "tx", 0.5], ["ty", "ty", 0.5]] };
const TF = { shape: "ship", steps: [], presets: {}, last: null };
function initTransform(section) {
  const gd = $("#tf-plot"), list = $("#tf-steps"), presetSel = $("#tf-preset");
  const mat = (m) => m.map((r) => r.map((x) => fmt(x).padStart(7)).join(" ")).join("\n");
  const buildList = () => {
    list.innerHTML = "";
    TF.steps.forEach((s, i) => {
      const li = document.createElement("li");
      li.dataset.kind = s.kind;
      const head = document.createElement("b"); head.textContent = s.kind; li.appendChild(head);
      const params = document.createElement("span"); params.className = "params";
      for (const [key, name, step] of PARAMS[s.kind] || []) {
        const lab = document.createElement("label"); lab.textContent = name + " ";
        const el = document.createElement("input");
        el.type = "number"; el.step = String(step); el.value = String(s[key]); el.className = "p-" + key;
        el.addEventListener("change", () => { s[key] = num(el); presetSel.value = ""; update(); });
        lab.appendChild(el); params.appendChild(lab);
      }
      if (s.kind === "reflect") {
        const sel = document.createElement("select");
        sel.innerHTML = '<option value="x">in the x axis</option><option value="y">in the y axis</option><option value="45">in the line y = x</option>';
        sel.value = String(s.axis);
        sel.addEventListener("change", () => { s.axis = sel.value === "45" ? 45 : sel.value; presetSel.value = ""; update(); });
        params.appendChild(sel);
      }
      if (s.kind === "rotate" || s.kind === "scale") {
        const sel = document.createElement("select");
        sel.className = "p-about";
        sel.innerHTML = '<option value="centre">about its centre</option><option value="origin">about the origin</option>';
        sel.value = s.about || "origin";
        sel.addEventListener("change", () => { s.about = sel.value; presetSel.value = ""; update(); });
        params.appendChild(sel);
      }
      li.appendChild(params);
      const tools = document.createElement("span"); tools.className = "tools";
      for (const [cls, text, title, fn] of [
        ["up", "↑", "move earlier", () => { if (i > 0) [TF.steps[i - 1], TF.steps[i]] = [TF.steps[i], TF.steps[i - 1]]; }],
        ["down", "↓", "move later", () => { if (i < TF.steps.length - 1) [TF.steps[i + 1], TF.steps[i]] = [TF.steps[i], TF.steps[i + 1]]; }],
        ["remove", "✕", "remove", () => { TF.steps.splice(i, 1); }]]) {
        const b = document.createElement("button"); b.type = "button"; b.className = cls;
        b.textContent = text; b.title = title;
        b.addEventListener("click", () => { fn(); presetSel.value = ""; buildList(); update(); });
        tools.appendChild(b);
      }
      li.appendChild(tools);
      list.appendChild(li);
    });
  };
  const closed = (pts) => [...pts, pts[0]];
  const update = runner(section, async () => {
    const r = await api("transform", { shape: TF.shape, steps: TF.steps });
    TF.last = r;
    const n = r.steps.length, last = r.steps[n - 1];
    setText("tf-final", mat(r.final));
    setText("tf-centre", fmtVec(last.centre));
    setWarnings(section, r.warnings); setPython(section, r.python);
    $("#tf-products").innerHTML = r.steps.map((s, i) => `<figure class="product" data-step="${i + 1}">
      <figcaption>${i + 1}. ${s.name}</figcaption>
      <div class="eq"><pre class="m">${mat(s.matrix)}</pre><span class="op">·</span>
      <pre class="m">${mat(i === 0 ? [[1, 0, 0], [0, 1, 0], [0, 0, 1]] : r.steps[i - 1].product)}</pre><span class="op">=</span>
      <pre class="m p" id="tf-product-${i + 1}">${mat(s.product)}</pre></div>
      <figcaption>S${i + 1} · ${i === 0 ? "I" : `P${i}`} = P${i + 1}</figcaption></figure>`).join("");
    const orig = closed(r.original);
    const traces = [{ x: orig.map((p) => p[0]), y: orig.map((p) => p[1]), mode: "lines",
      line: { color: "#718096", width: 1.5, dash: "dot" }, hoverinfo: "skip" }];
    const ann = [];
    r.steps.forEach((s, i) => {
      const pts = closed(s.points), final = i === n - 1;
      const alpha = final ? 0.35 : 0.08 + 0.12 * (i / Math.max(n - 1, 1));
      traces.push({ x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: "lines", fill: "toself",
        fillcolor: `rgba(43,108,176,${alpha})`, line: { color: final ? COLORS.blue : "rgba(43,108,176,0.55)", width: final ? 2.5 : 1 },
        hoverinfo: "skip" });
    });
    // one label per centre: steps that leave the centre where it was share it ("1, 2")
    const spots = new Map();
    r.steps.forEach((s, i) => {
      const key = s.centre.map((c) => c.toFixed(3)).join(",");
      if (!spots.has(key)) spots.set(key, { at: s.centre, steps: [] });
      spots.get(key).steps.push(i + 1);
    });
    for (const { at, steps } of spots.values()) {
      const final = steps.includes(n);
      ann.push({ x: at[0], y: at[1], xref: "x", yref: "y", text: steps.join(", "), showarrow: false,
        font: { size: 12, color: final ? "#fff" : COLORS.blue }, bgcolor: final ? COLORS.blue : "rgba(255,255,255,0.85)",
        borderpad: 2 });
    }
    ann.push({ x: 0, y: 0, xref: "x", yref: "y", text: "start", showarrow: false, yshift: -18,
               font: { size: 11, color: "#718096" } });
    // view: large enough for every drawn shape (display only)
    const far = Math.max(6, ...r.steps.flatMap((st) => st.points.flat().map(Math.abs)));
    Plotly.react(gd, traces, { ...plane(Math.ceil(far + 1)), annotations: ann }, PLOT_CONFIG);
  });
  const loadPresets = async () => {
    const r = await api("transform/presets");
    TF.presets = r.chains;
    presetSel.innerHTML = '<option value="">(custom)</option>' + Object.keys(r.chains)
      .map((k) => `<option>${k}</option>`).join("");
  };
  const usePreset = (name) => {
    TF.steps = TF.presets[name].map((s) => ({ ...s }));
    presetSel.value = name; buildList(); update();
  };
  presetSel.addEventListener("change", () => { if (TF.presets[presetSel.value]) usePreset(presetSel.value); });
  $("#tf-shape").addEventListener("change", (ev) => { TF.shape = ev.target.value; update(); });
  $("#tf-add-btn").addEventListener("click", () => {
    const kind = $("#tf-add").value;
    TF.steps.push({ kind, ...DEFAULTS[kind] });
    presetSel.value = ""; buildList(); update();  // more than the limit: the API says so (422)
  });
  loadPresets().then(() => usePreset("turn about its centre, then fly"))
    .catch((e) => { setError(section, e.message); section.dataset.state = "error"; section.dataset.seq = "1"; });
}

dotwise.registerDemo({ id: "transform", state: TF, mount(section) { section.innerHTML = HTML; initTransform(section); } });
})();
