// Upload page: drag and drop many files; each becomes a document (a ZIP becomes a batch) whose
// status is polled through the API until it settles, without reloading the page.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const rows = document.querySelector("#progress tbody");
  const announce = document.getElementById("upload-status");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const SETTLED = new Set(["done", "needs_review", "failed"]);

  function row(name) {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td><span class='status'>uploading</span></td><td></td>";
    tr.cells[0].textContent = name;
    rows.prepend(tr);
    return tr;
  }

  function show(tr, status, detail, url) {
    const badge = tr.cells[1].firstElementChild;
    badge.textContent = status.replace("_", " ");
    badge.className = "status status-" + status;
    tr.cells[2].textContent = detail || "";
    if (url && !tr.cells[0].querySelector("a")) {
      const link = document.createElement("a");
      link.href = url;
      link.textContent = tr.cells[0].textContent;
      tr.cells[0].replaceChildren(link);
    }
  }

  async function api(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin", headers: { "X-CSRFToken": csrf } }, options));
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
    return body;
  }

  async function poll(tr, id) {
    for (;;) {
      const doc = await api("/api/v1/documents/" + id + "/");
      const fields = (doc.pages || []).reduce((n, p) => n + p.fields.length, 0);
      show(tr, doc.status, doc.error || (fields ? fields + " fields" : ""), "/documents/" + id + "/");
      if (SETTLED.has(doc.status)) return doc.status;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async function send(file) {
    const tr = row(file.name);
    const data = new FormData();
    const isZip = /\.zip$/i.test(file.name) || file.type === "application/zip";
    data.append(isZip ? "files" : "file", file);
    const template = document.getElementById("template").value;
    if (template) data.append("template", template);
    if (template && document.getElementById("template-fallback").checked) data.append("template_fallback", "true");
    try {
      if (isZip) {
        const batch = await api("/api/v1/batches/", { method: "POST", body: data });
        show(tr, "queued", batch.progress.total + " files in the archive");
        const docs = await api("/api/v1/documents/?batch=" + batch.id);
        tr.remove();
        await Promise.all(docs.results.map((d) => poll(row(d.original_name), d.id)));
      } else {
        const doc = await api("/api/v1/documents/", { method: "POST", body: data });
        await poll(tr, doc.id);
      }
    } catch (err) {
      show(tr, "failed", err.message);
    }
  }

  async function sendAll(files) {
    announce.textContent = files.length + " file(s) uploading";
    await Promise.all(Array.from(files).map(send));
    announce.textContent = "All uploads settled";
  }

  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); sendAll(e.dataTransfer.files); });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => { sendAll(input.files); input.value = ""; });
})();
