// Template editor: fields as rectangles over the blank form, in fractions of the page.
// Mouse: drag on the page draws a field, drag a field moves it, drag its corner resizes it.
// Keyboard (a field focused): arrows move, Shift+arrows resize, Delete removes.
(function () {
  "use strict";
  const root = document.getElementById("editor");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const svg = document.getElementById("overlay");
  const list = document.getElementById("field-list");
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const STEP = 0.002;
  let templateId = root.dataset.templateId;
  let template = null;
  let fields = [];
  let selected = -1;
  let dirty = false;

  const say = (t) => { $("editor-status").textContent = t; };
  const problem = (t) => { $("editor-problem").textContent = t || ""; };
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const round = (v) => Math.round(v * 1e6) / 1e6;

  async function api(path, options) {
    const response = await fetch(`${root.dataset.api}${path}`, {
      credentials: "same-origin", ...options,
      headers: { "X-CSRFToken": csrf, ...(options && options.headers) },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
    return body;
  }

  function changed() { dirty = true; say("Unsaved changes."); }

  function moveBoxes(field, old) {
    // Explicit comb boxes follow their field when it moves or is resized.
    if (!field.boxes || !field.boxes.length) return;
    const [ox, oy, ow, oh] = old;
    const [nx, ny, nw, nh] = field.bbox;
    field.boxes = field.boxes.map(([x, y, w, h]) => [
      round(nx + (x - ox) * nw / ow), round(ny + (y - oy) * nh / oh), round(w * nw / ow), round(h * nh / oh),
    ]);
  }

  function setBBox(index, bbox) {
    const field = fields[index];
    const old = field.bbox.slice();
    let [x, y, w, h] = bbox;
    w = clamp(w, 0.005, 1); h = clamp(h, 0.005, 1);
    x = clamp(x, 0, 1 - w); y = clamp(y, 0, 1 - h);
    field.bbox = [round(x), round(y), round(w), round(h)];
    moveBoxes(field, old);
    drawField(index);
    changed();
  }

  function drawField(index) {
    const field = fields[index];
    const group = svg.querySelector(`g[data-index="${index}"]`);
    if (!group) return;
    const rect = group.querySelector("rect");
    const [x, y, w, h] = field.bbox;
    rect.setAttribute("x", x); rect.setAttribute("y", y);
    rect.setAttribute("width", w); rect.setAttribute("height", h);
    rect.setAttribute("aria-label", `Field ${field.name || index + 1}, ${field.kind}`);
    group.querySelectorAll("line").forEach((l) => l.remove());
    if (field.kind === "digits") {
      const count = field.box_count || 1;
      for (let i = 1; i < count; i += 1) {
        const line = document.createElementNS(NS, "line");
        const lx = field.boxes && field.boxes[i] ? field.boxes[i][0] : x + (w * i) / count;
        line.setAttribute("x1", lx); line.setAttribute("x2", lx);
        line.setAttribute("y1", y); line.setAttribute("y2", y + h);
        line.setAttribute("class", "divider");
        group.append(line);
      }
    }
  }

  function select(index, focusBox) {
    selected = index;
    svg.querySelectorAll("rect.tfield").forEach((r) => r.classList.toggle("selected", Number(r.parentNode.dataset.index) === index));
    [...list.children].forEach((li, i) => li.classList.toggle("selected", i === index));
    if (focusBox && index >= 0) svg.querySelector(`g[data-index="${index}"] rect`).focus();
  }

  function row(field, index) {
    const li = document.createElement("li");
    const id = `f${index}`;
    li.innerHTML = `
      <label for="${id}-name">Name</label><input id="${id}-name" data-key="name" maxlength="100">
      <label for="${id}-kind">Kind</label><select id="${id}-kind" data-key="kind"><option value="digits">Boxes (one digit each)</option><option value="string">Number (free)</option></select>
      <label for="${id}-count">Boxes</label><input id="${id}-count" data-key="box_count" type="number" min="1" max="64">
      <label for="${id}-rule">Rule (JSON)</label><input id="${id}-rule" data-key="rule" placeholder='{"length": 8}'>
      <label for="${id}-thr">Accept threshold</label><input id="${id}-thr" data-key="accept_threshold" type="number" min="0" max="1" step="0.001" placeholder="model's">
      <label for="${id}-req">Required</label><input id="${id}-req" data-key="required" type="checkbox">
      <button type="button" data-action="box">Select box</button><button type="button" data-action="delete">Delete field</button>`;
    li.querySelector('[data-key="name"]').value = field.name;
    li.querySelector('[data-key="kind"]').value = field.kind;
    li.querySelector('[data-key="box_count"]').value = field.box_count || "";
    li.querySelector('[data-key="box_count"]').disabled = field.kind !== "digits";
    li.querySelector('[data-key="rule"]').value = field.rule && Object.keys(field.rule).length ? JSON.stringify(field.rule) : "";
    li.querySelector('[data-key="accept_threshold"]').value = field.accept_threshold ?? "";
    li.querySelector('[data-key="required"]').checked = !!field.required;
    li.addEventListener("focusin", () => select(index, false));
    li.addEventListener("change", (e) => {
      const key = e.target.dataset.key;
      if (!key) return;
      if (key === "name") field.name = e.target.value.trim();
      else if (key === "kind") {
        field.kind = e.target.value;
        field.box_count = field.kind === "digits" ? field.box_count || 1 : null;
        field.boxes = [];
        render();
        select(index, false);
      } else if (key === "box_count") { field.box_count = Number(e.target.value) || 1; field.boxes = []; }
      else if (key === "rule") {
        const text = e.target.value.trim();
        try { field.rule = text ? JSON.parse(text) : {}; problem(""); }
        catch (err) { problem(`Field ${field.name}: the rule is not valid JSON.`); return; }
      } else if (key === "accept_threshold") field.accept_threshold = e.target.value === "" ? null : Number(e.target.value);
      else if (key === "required") field.required = e.target.checked;
      drawField(index);
      changed();
    });
    li.querySelector('[data-action="box"]').addEventListener("click", () => select(index, true));
    li.querySelector('[data-action="delete"]').addEventListener("click", () => remove(index));
    return li;
  }

  function render() {
    svg.replaceChildren();
    list.replaceChildren();
    fields.forEach((field, index) => {
      const group = document.createElementNS(NS, "g");
      group.dataset.index = String(index);
      const rect = document.createElementNS(NS, "rect");
      rect.setAttribute("class", "tfield");
      rect.setAttribute("tabindex", "0");
      rect.setAttribute("role", "button");
      group.append(rect);
      svg.append(group);
      drawField(index);
      list.append(row(field, index));
    });
    select(selected, false);
  }

  function remove(index) {
    const name = fields[index].name;
    fields.splice(index, 1);
    selected = -1;
    render();
    changed();
    say(`Field ${name} deleted.`);
  }

  function add(bbox) {
    const names = new Set(fields.map((f) => f.name));
    let n = fields.length + 1;
    while (names.has(`field_${n}`)) n += 1;
    fields.push({ name: `field_${n}`, kind: "string", bbox, box_count: null, boxes: [], rule: {}, accept_threshold: null, required: false });
    render();
    select(fields.length - 1, true);
    changed();
    say(`Field field_${n} added.`);
  }

  function point(e) {
    const r = svg.getBoundingClientRect();
    return [clamp((e.clientX - r.left) / r.width, 0, 1), clamp((e.clientY - r.top) / r.height, 0, 1)];
  }

  let drag = null;
  svg.addEventListener("pointerdown", (e) => {
    const [px, py] = point(e);
    const group = e.target.closest("g[data-index]");
    svg.setPointerCapture(e.pointerId);
    if (group) {
      const index = Number(group.dataset.index);
      const [x, y, w, h] = fields[index].bbox;
      const r = svg.getBoundingClientRect();
      const nearCorner = Math.abs((x + w - px) * r.width) < 12 && Math.abs((y + h - py) * r.height) < 12;
      drag = { mode: nearCorner ? "resize" : "move", index, start: [px, py], bbox: [x, y, w, h] };
      select(index, false);
    } else {
      drag = { mode: "draw", start: [px, py], bbox: [px, py, 0, 0] };
    }
    e.preventDefault();
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [px, py] = point(e);
    const dx = px - drag.start[0];
    const dy = py - drag.start[1];
    const [x, y, w, h] = drag.bbox;
    if (drag.mode === "move") setBBox(drag.index, [x + dx, y + dy, w, h]);
    else if (drag.mode === "resize") setBBox(drag.index, [x, y, w + dx, h + dy]);
  });
  svg.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const [px, py] = point(e);
    if (drag.mode === "draw") {
      const [sx, sy] = drag.start;
      const bbox = [Math.min(sx, px), Math.min(sy, py), Math.abs(px - sx), Math.abs(py - sy)];
      if (bbox[2] > 0.01 && bbox[3] > 0.005) add(bbox.map(round));
    }
    drag = null;
  });

  svg.addEventListener("keydown", (e) => {
    const group = e.target.closest("g[data-index]");
    if (!group) return;
    const index = Number(group.dataset.index);
    const [x, y, w, h] = fields[index].bbox;
    const moves = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] };
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      setBBox(index, e.shiftKey ? [x, y, w + dx, h + dy] : [x + dx, y + dy, w, h]);
      e.preventDefault();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      remove(index);
      e.preventDefault();
    } else if (e.key === "Enter") {
      list.children[index].querySelector("input").focus();
      e.preventDefault();
    }
  });
  svg.addEventListener("focusin", (e) => {
    const group = e.target.closest("g[data-index]");
    if (group) select(Number(group.dataset.index), false);
  });

  $("add-field").addEventListener("click", () => add([0.4, 0.45, 0.2, 0.05]));

  async function save() {
    problem("");
    const payload = { name: $("t-name").value.trim(), kind: $("t-kind").value, is_live: $("t-live").checked, fields };
    try {
      const saved = await api(`${templateId}/`, {
        method: "PATCH", body: JSON.stringify(payload), headers: { "Content-Type": "application/json" },
      });
      const newVersion = String(saved.id) !== String(templateId);
      load(saved);
      dirty = false;
      say(newVersion
        ? `Saved as version ${saved.version}: documents read with the previous version keep it.`
        : "Saved.");
      return true;
    } catch (err) {
      problem(err.message);
      return false;
    }
  }
  $("save").addEventListener("click", save);

  $("try-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (dirty && !(await save())) return;
    say("Reading the sample...");
    const data = new FormData();
    data.append("file", file);
    try {
      const result = await api(`${templateId}/try`, { method: "POST", body: data });
      const body = $("try-results").querySelector("tbody");
      body.replaceChildren();
      result.fields.forEach((f) => {
        const tr = document.createElement("tr");
        [f.name, f.value || "(empty)", f.confidence == null ? "–" : f.confidence.toFixed(3), f.status + (f.review_reason ? `: ${f.review_reason}` : "")]
          .forEach((text) => { const td = document.createElement("td"); td.textContent = text; tr.append(td); });
        body.append(tr);
      });
      $("try-results").hidden = false;
      say(`Read ${result.fields.length} fields.`);
    } catch (err) {
      problem(err.message);
    }
    e.target.value = "";
  });

  function load(data) {
    template = data;
    templateId = data.id;
    if (location.pathname !== `/templates/${data.id}/`) history.replaceState(null, "", `/templates/${data.id}/`);
    document.querySelector("h1 small").textContent = `v${data.version}`;
    $("t-name").value = data.name;
    $("t-kind").value = data.kind;
    $("t-live").checked = data.is_live;
    $("reference").src = data.reference_url;
    const figure = svg.parentNode;
    figure.style.aspectRatio = `${data.reference_width} / ${data.reference_height}`;
    fields = data.fields.map((f) => ({ ...f, boxes: f.boxes || [], rule: f.rule || {} }));
    render();
  }

  ["t-name", "t-kind", "t-live"].forEach((id) => $(id).addEventListener("change", changed));
  window.addEventListener("beforeunload", (e) => { if (dirty) e.preventDefault(); });
  api(`${templateId}/`).then(load).catch((err) => problem(err.message));
})();
