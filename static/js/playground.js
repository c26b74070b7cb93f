// Playground: strokes on a canvas are sent as a PNG to the API, which normalizes and reads them.
(function () {
  "use strict";
  const canvas = document.getElementById("pad");
  const ctx = canvas.getContext("2d");
  const form = document.getElementById("playground");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const reading = document.getElementById("reading");
  const rows = document.querySelector("#characters tbody");
  let drawing = false;
  let dirty = false;
  let timer = null;

  function reset() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#000";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = canvas.height / 14;
    dirty = false;
    reading.textContent = "Nothing written yet.";
    rows.replaceChildren();
  }

  function point(e) {
    const rect = canvas.getBoundingClientRect();
    return [(e.clientX - rect.left) * canvas.width / rect.width, (e.clientY - rect.top) * canvas.height / rect.height];
  }

  canvas.addEventListener("pointerdown", (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    const [x, y] = point(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = point(e);
    ctx.lineTo(x, y);
    ctx.stroke();
    dirty = true;
  });
  canvas.addEventListener("pointerup", () => {
    drawing = false;
    clearTimeout(timer);
    timer = setTimeout(read, 250);
  });

  async function read() {
    if (!dirty) return;
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const data = new FormData();
    data.append("image", blob, "pad.png");
    data.append("mode", form.elements.mode.value);
    const response = await fetch("/api/v1/playground/read", {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf },
    });
    const body = await response.json();
    if (!response.ok) {
      reading.textContent = body.error ? body.error.message : response.statusText;
      return;
    }
    reading.textContent = body.value === "" ? "No digit found." :
      body.value + " (confidence " + (body.confidence * 100).toFixed(1) + "%)";
    rows.replaceChildren(...body.characters.map((c) => {
      const tr = document.createElement("tr");
      const alternatives = c.alternatives.map((a) => a[0] + " " + (a[1] * 100).toFixed(1) + "%").join(", ");
      [c.char, (c.confidence * 100).toFixed(1) + "%", alternatives].forEach((text) => {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      });
      return tr;
    }));
  }

  document.getElementById("clear").addEventListener("click", reset);
  form.addEventListener("change", () => { dirty = true; read(); });
  reset();
})();
