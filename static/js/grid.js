// Grid review: many doubtful digits at once. Arrows move, a digit key marks the focused tile as
// wrong with that digit, Backspace unmarks, Enter saves the screen and loads the next one.
(function () {
  "use strict";
  const root = document.getElementById("grid");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const tiles = document.getElementById("tiles");
  const save = document.getElementById("grid-save");
  const announce = (t) => { document.getElementById("grid-announce").textContent = t; };
  const problem = (t) => { document.getElementById("grid-problem").textContent = t || ""; };
  let items = [];
  let openedAt = 0;
  let keystrokes = 0;
  let busy = false;

  function columns() {
    const first = tiles.children[0];
    if (!first) return 1;
    const width = first.getBoundingClientRect().width || 1;
    return Math.max(1, Math.round(tiles.getBoundingClientRect().width / width));
  }

  function label(item) {
    return item.answer === item.digit
      ? `Read as ${item.digit}, confidence ${Math.round(item.confidence * 100)}%`
      : `Read as ${item.digit}, marked as ${item.answer}`;
  }

  function render() {
    tiles.replaceChildren();
    items.forEach((item, i) => {
      const li = document.createElement("li");
      li.className = "tile";
      li.tabIndex = i === 0 ? 0 : -1;
      li.setAttribute("role", "gridcell");
      li.dataset.index = String(i);
      li.innerHTML = `<img alt="" src="${item.crop_url}"><span class="digit"></span>`;
      li.querySelector(".digit").textContent = item.digit;
      li.setAttribute("aria-label", label(item));
      tiles.append(li);
    });
    document.getElementById("grid-empty").hidden = items.length > 0;
    save.hidden = items.length === 0;
    if (items.length) tiles.children[0].focus();
  }

  function update(i) {
    const li = tiles.children[i];
    const item = items[i];
    li.classList.toggle("marked", item.answer !== item.digit);
    li.querySelector(".digit").textContent = item.answer;
    li.setAttribute("aria-label", label(item));
  }

  function focus(i) {
    if (i < 0 || i >= items.length) return;
    [...tiles.children].forEach((li) => { li.tabIndex = -1; });
    tiles.children[i].tabIndex = 0;
    tiles.children[i].focus();
  }

  async function load() {
    problem("");
    const query = new URLSearchParams({ limit: "48" });
    if (root.dataset.digit) query.set("digit", root.dataset.digit);
    const response = await fetch(`${root.dataset.url}?${query}`, { credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) { problem(body?.error?.message || `Could not load (HTTP ${response.status}).`); return; }
    items = body.items.map((item) => ({ ...item, answer: item.digit }));
    openedAt = performance.now();
    keystrokes = 0;
    render();
    announce(items.length ? `${items.length} digits to check.` : "No doubtful digits wait.");
  }

  async function submit() {
    if (busy || !items.length) return;
    busy = true;
    const payload = {
      items: items.map((i) => ({ field: i.field, revision: i.revision, position: i.position, digit: i.answer })),
      seconds_spent: Math.round((performance.now() - openedAt) / 100) / 10,
      keystrokes: keystrokes,
    };
    const response = await fetch(root.dataset.url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(payload),
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" },
    });
    const body = await response.json().catch(() => null);
    busy = false;
    if (!response.ok) {
      problem(`${body?.error?.message || `Could not save (HTTP ${response.status}).`}${response.status === 409 ? " Reloading." : ""}`);
      if (response.status === 409) await load();
      return;
    }
    announce(`Saved: ${body.settled} fields settled, ${body.waiting} still waiting.`);
    await load();
  }

  tiles.addEventListener("keydown", (e) => {
    const li = e.target.closest(".tile");
    if (!li) return;
    const i = Number(li.dataset.index);
    keystrokes += 1;
    if (/^[0-9]$/.test(e.key)) { items[i].answer = e.key; update(i); focus(i + 1); e.preventDefault(); }
    else if (e.key === "Backspace" || e.key === "Delete") { items[i].answer = items[i].digit; update(i); e.preventDefault(); }
    else if (e.key === "ArrowRight") { focus(i + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { focus(i - 1); e.preventDefault(); }
    else if (e.key === "ArrowDown") { focus(i + columns()); e.preventDefault(); }
    else if (e.key === "ArrowUp") { focus(i - columns()); e.preventDefault(); }
    else if (e.key === "Enter") { e.preventDefault(); submit(); }
  });
  save.addEventListener("click", submit);
  load();
})();
