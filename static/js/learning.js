// Learning dashboard: start, follow and cancel retraining jobs; promote and roll back versions.
(function () {
  "use strict";
  const root = document.getElementById("learning");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const say = (t) => { document.getElementById("learning-status").textContent = t; };
  const problem = (t) => { document.getElementById("learning-problem").textContent = t || ""; };

  async function api(path, method, payload) {
    const response = await fetch(root.dataset.api + path, {
      method: method || "GET", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" },
      body: method === "POST" ? JSON.stringify(payload || {}) : undefined,
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
    return body;
  }

  function curve(progress) {
    // Training loss and holdout accuracy per epoch, as two polylines in a 120x40 box.
    if (!progress.length) return "";
    const w = 120, h = 40;
    const x = (i) => (progress.length === 1 ? w / 2 : (i * w) / (progress.length - 1));
    const losses = progress.map((p) => p.loss);
    const top = Math.max(...losses) || 1;
    const loss = progress.map((p, i) => `${x(i)},${h - (p.loss / top) * h}`).join(" ");
    const acc = progress.filter((p) => p.holdout_accuracy != null)
      .map((p, i) => `${x(i)},${h - p.holdout_accuracy * h}`).join(" ");
    return `<svg width="${w}" height="${h}" role="img" aria-label="loss and holdout accuracy per epoch">
      <polyline fill="none" stroke="#cf222e" stroke-width="2" points="${loss}"/>
      <polyline fill="none" stroke="#1a7f37" stroke-width="2" points="${acc}"/></svg>`;
  }

  async function follow(row) {
    const id = row.dataset.job;
    for (;;) {
      const job = await api(`retraining/${id}/`);
      row.querySelector(".epochs").textContent = String(job.progress.length);
      row.querySelector(".curve").innerHTML = curve(job.progress);
      const status = row.querySelector(".status");
      status.textContent = job.status;
      status.className = `status status-${job.status}`;
      if (!["queued", "running"].includes(job.status)) {
        if (job.gate && job.gate.reasons) row.querySelector(".gate").textContent = `${job.gate.passed ? "passed" : "refused"}: ${job.gate.reasons.join("; ")}`;
        say(`Job ${id} ${job.status}.`);
        return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  document.querySelectorAll("#jobs tr[data-job]").forEach((row) => {
    api(`retraining/${row.dataset.job}/`).then((job) => { row.querySelector(".curve").innerHTML = curve(job.progress); });
    if (["queued", "running"].includes(row.dataset.status)) follow(row);
  });

  root.addEventListener("click", async (e) => {
    const target = e.target;
    problem("");
    try {
      if (target.dataset.retrain) {
        const job = await api("retraining/", "POST", { kind: target.dataset.retrain });
        say(`Job ${job.id} queued.`);
        location.reload();
      } else if (target.dataset.cancel) {
        await api(`retraining/${target.dataset.cancel}/cancel/`, "POST");
        say("Cancel requested.");
      } else if (target.dataset.promote) {
        const v = await api(`models/${target.dataset.promote}/promote/`, "POST");
        say(`${v.version} is now active.`);
        location.reload();
      } else if (target.dataset.rollback) {
        const v = await api(`models/${target.dataset.rollback}/rollback/`, "POST");
        say(`Rolled back to ${v.version}.`);
        location.reload();
      }
    } catch (err) {
      problem(err.message);
    }
  });
})();
