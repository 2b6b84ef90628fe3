// dotwise playground — demo "filters": its markup and its code, registered with app.js.
// Every number comes from the JSON API (/api/...); this file only draws.
"use strict";
(() => {
const HTML = `
  <h2>Photo filters</h2>
  <p class="explain">Every filter here is a dot product per pixel: a blur, sharpen or edge
    detector dots a small kernel with the neighbourhood of each pixel; a colour filter (sepia,
    grayscale, saturation) dots a 3×3 matrix with each pixel's RGB vector. Because convolution is
    associative, a chain of kernels fuses into one kernel, and a chain of colour matrices into one
    matrix — so the pipeline below runs in fewer passes. Add filters, tune them, move them up
    (↑) and watch the number of passes change.</p>
  <div class="row">
    <div class="images">
      <figure><img id="flt-original" alt="original"><figcaption>original</figcaption></figure>
      <figure><img id="flt-result" alt="filtered"><figcaption>filtered (fused)</figcaption></figure>
    </div>
    <div class="side">
      <div class="inputs">
        <label>photo <select class="image-select" id="flt-image"></select></label>
        <label>add <select id="flt-add"></select></label>
        <button id="flt-add-btn" type="button">add filter</button>
      </div>
      <ol id="flt-steps" class="steps"></ol>
      <table class="numbers">
        <tr><th>filters</th><td id="flt-n_steps"></td></tr>
        <tr><th>passes after fusing</th><td id="flt-n_passes"></td></tr>
        <tr><th>fused pipeline</th><td id="flt-fused"></td></tr>
      </table>
      <div class="error" role="alert"></div><div class="warnings"></div>
      <h3>Python</h3><pre class="python"></pre>
    </div>
  </div>
`;

const FLT = { steps: [{ name: "gaussian_blur", params: { sigma: 1.5 } }, { name: "sharpen", params: { amount: 0.8 } },
                     { name: "sepia", params: {} }, { name: "brightness", params: { factor: 1.1 } }],
              catalogue: null };
function initFilters(section) {
  const imgSel = $("#flt-image"), addSel = $("#flt-add"), list = $("#flt-steps");
  const renderSteps = () => {
    list.innerHTML = "";
    FLT.steps.forEach((step, i) => {
      const li = document.createElement("li");
      li.innerHTML = `<b>${step.name}</b><span class="params"></span> `;
      const params = $(".params", li);
      for (const p of FLT.catalogue[step.name]) {
        if (!(p.name in step.params)) step.params[p.name] = p.default;
        const lab = document.createElement("label");
        lab.textContent = p.name + " ";
        const el = document.createElement("input");
        Object.assign(el, { type: "range", min: p.min, max: p.max, step: p.step, value: step.params[p.name] });
        el.id = `flt-${i}-${p.name}`;
        const val = document.createElement("span"); val.textContent = String(step.params[p.name]);
        el.addEventListener("input", () => { step.params[p.name] = Number(el.value); val.textContent = el.value; update(); });
        lab.append(el, val); params.appendChild(lab);
      }
      if (i > 0) {
        const up = document.createElement("button"); up.type = "button"; up.textContent = "↑";
        up.title = "move up"; up.className = "up";
        up.addEventListener("click", () => {
          [FLT.steps[i - 1], FLT.steps[i]] = [FLT.steps[i], FLT.steps[i - 1]]; renderSteps(); update();
        });
        li.appendChild(up);
      }
      const rm = document.createElement("button"); rm.type = "button"; rm.textContent = "remove";
      rm.addEventListener("click", () => { FLT.steps.splice(i, 1); renderSteps(); update(); });
      li.appendChild(rm); list.appendChild(li);
    });
  };
  const update = runner(section, async () => {
    if (!FLT.catalogue) {
      FLT.catalogue = (await api("filters")).filters;
      addSel.innerHTML = Object.keys(FLT.catalogue).map((n) => `<option>${n}</option>`).join("");
      await fillImageSelect(imgSel);
      renderSteps();
    }
    const r = await api("filters", { image: imgSel.value, steps: FLT.steps });
    $("#flt-original").src = r.original; $("#flt-result").src = r.result;
    setText("flt-n_steps", String(r.n_steps)); setText("flt-n_passes", fmt(r.n_passes));
    setText("flt-fused", r.fused);
    setWarnings(section, r.warnings); setPython(section, r.python);
  });
  $("#flt-add-btn").addEventListener("click", () => {
    FLT.steps.push({ name: addSel.value, params: {} }); renderSteps(); update();
  });
  imgSel.addEventListener("change", update);
  update();
}

dotwise.registerDemo({ id: "filters", state: FLT, mount(section) { section.innerHTML = HTML; initFilters(section); } });
})();
