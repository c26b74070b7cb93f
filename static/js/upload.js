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

  // Every document of a batch, following the list's pages (an archive may hold more documents
  // than one page of the list).
  async function batchDocuments(id) {
    const docs = [];
    for (let url = "/api/v1/documents/?batch=" + id; url; ) {
      const page = await api(url);
      docs.push(...page.results);
      const next = page.next && new URL(page.next, location.href);
      url = next && next.pathname + next.search;
    }
    return docs;
  }

  // One row per document of the batch, all refreshed from the batch's list once a second: a
  // request per page of 50 documents rather than one per document.
  async function pollBatch(tr, batchId) {
    const byId = new Map();
    for (;;) {
      const docs = await batchDocuments(batchId);
      if (docs.length) tr.remove();
      for (const d of docs) {
        if (!byId.has(d.id)) byId.set(d.id, row(d.original_name));
        show(byId.get(d.id), d.status, d.error, "/documents/" + d.id + "/");
      }
      if (docs.every((d) => SETTLED.has(d.status))) return;
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
        await pollBatch(tr, batch.id);
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
