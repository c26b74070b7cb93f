// Field review, keyboard first: the value field is focused with the reading selected, so typing
// replaces it; Enter confirms (or saves the correction) and loads the next field; Esc skips.
(function () {
  "use strict";
  const root = document.getElementById("review");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const input = $("value");
  const skipped = [];
  let item = null;
  let openedAt = 0;
  let keystrokes = 0;
  let busy = false;
  let done = 0;

  function say(text) { $("announce").textContent = text; }
  function problem(text) { $("problem").textContent = text || ""; }

  async function api(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json", ...(options && options.headers) },
    });
    let body = null;
    if (response.status !== 204) {
      try { body = await response.json(); } catch (e) { body = null; }
    }
    return { status: response.status, body };
  }

  function showReading(field) {
    const reading = $("reading");
    reading.replaceChildren();
    const threshold = field.threshold ?? 1;
    let doubtful = 0;
    field.characters.forEach((c) => {
      const span = document.createElement("span");
      span.textContent = c.char;
      if (c.confidence < threshold) { span.className = "doubt"; doubtful += 1; }
      span.title = `confidence ${(c.confidence * 100).toFixed(1)}%`;
      reading.append(span);
    });
    if (!field.characters.length) reading.textContent = "(nothing)";
    $("doubt-note").textContent = doubtful
      ? `${doubtful} doubtful digit${doubtful > 1 ? "s" : ""} highlighted.`
      : "No single digit is doubtful.";
    return doubtful;
  }

  function showPlace(field) {
    const [x, y, w, h] = field.bbox;
    const svg = $("page-box");
    svg.setAttribute("viewBox", `0 0 ${field.page_width} ${field.page_height}`);
    svg.innerHTML = `<rect x="${x}" y="${y}" width="${w}" height="${h}"></rect>`;
    $("page").src = field.page_url;
    $("page-caption").textContent = `${field.document_name}, page ${field.page + 1}`;
  }

  async function next() {
    problem("");
    const query = skipped.length ? `?skip=${skipped.join(",")}` : "";
    const { status, body } = await api(root.dataset.nextUrl + query, { method: "GET" });
    if (status === 204) {
      item = null;
      $("item").hidden = true;
      $("empty").hidden = false;
      say("Nothing waits for review.");
      return;
    }
    if (status !== 200) { problem(body?.error?.message || `Could not load the queue (HTTP ${status}).`); return; }
    item = body;
    $("empty").hidden = true;
    $("item").hidden = false;
    $("crop").src = `${item.crop_url}?v=${item.revision}`;
    $("item-place").textContent = `${item.name || (item.kind === "digits" ? "Boxes" : "Number")} · ${item.document_name}`;
    $("item-reason").textContent = item.review_reason || "needs a person";
    const doubtful = showReading(item);
    showPlace(item);
    input.value = item.value;
    input.maxLength = item.kind === "digits" && item.boxes.length ? item.boxes.length : 64;
    input.focus();
    input.select();
    openedAt = performance.now();
    keystrokes = 0;
    say(`Read ${item.value ? item.value.split("").join(" ") : "nothing"}; ${doubtful} doubtful. Type to replace, Enter to confirm.`);
  }

  async function save() {
    if (!item || busy) return;
    const value = input.value.trim();
    if (!/^[0-9]*$/.test(value)) { problem("The value may hold digits only."); input.focus(); return; }
    busy = true;
    const payload = {
      revision: item.revision,
      seconds_spent: Math.round((performance.now() - openedAt) / 100) / 10,
      keystrokes: keystrokes,
      mode: "field",
    };
    const corrected = value !== item.value;
    const url = `${root.dataset.fieldsUrl}${item.id}/${corrected ? "correct" : "confirm"}/`;
    if (corrected) payload.value = value;
    const { status, body } = await api(url, { method: "POST", body: JSON.stringify(payload) });
    busy = false;
    if (status === 200) {
      done += 1;
      $("done-count").textContent = String(done);
      say(corrected ? `Corrected to ${value}.` : "Confirmed.");
      await next();
    } else if (status === 409) {
      problem(`${body?.error?.message || "The field changed."} Loading the next one.`);
      await next();
    } else {
      problem(body?.error?.message || `Could not save (HTTP ${status}).`);
      input.focus();
    }
  }

  async function skip() {
    if (!item || busy) return;
    skipped.push(item.id);
    await api(`${root.dataset.fieldsUrl}${item.id}/release/`, { method: "POST", body: "{}" });
    say("Skipped.");
    await next();
  }

  input.addEventListener("keydown", (e) => {
    keystrokes += 1;
    if (e.key === "Escape") { e.preventDefault(); skip(); }
  });
  input.addEventListener("input", () => {
    const clean = input.value.replace(/[^0-9]/g, "");
    if (clean !== input.value) input.value = clean;
  });
  $("answer").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("skip").addEventListener("click", skip);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.activeElement !== input) { e.preventDefault(); skip(); }
  });
  next();
})();
