// The clerk's form: post the draft on every change, mark the cells the findings name, download the report.
(function () {
  "use strict";
  const form = document.getElementById("draft-form");
  if (!form) return;
  const status = document.getElementById("draft-status");
  const list = document.getElementById("draft-findings");
  const previous = document.getElementById("draft-previous");
  const failure = document.getElementById("draft-error");
  const SEVERITY = { error: "错误", warning: "警告", info: "提示" };
  const ORIGIN = { source: "报告本身", extraction: "解析存疑" };
  let timer = null, sequence = 0;
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";  // every write carries it

  function draft() {
    const d = { meta: {}, intro: "", sections: {}, cells: {} };
    for (const el of form.elements) {
      if (!el.name) continue;
      const value = el.value.trim();
      if (el.name.startsWith("meta.")) {
        const key = el.name.slice(5);
        d.meta[key] = key === "year" ? (value ? Number(value) : null) : (value || null);
      } else if (el.name === "intro") d.intro = el.value;
      else if (el.name.startsWith("section.")) d.sections[el.name.slice(8)] = el.value;
      else if (el.name.startsWith("cell.")) d.cells[el.name.slice(5)] = value === "" ? null : value;
    }
    return d;
  }

  function cellInput(id) { return form.querySelector(`input[name="cell.${CSS.escape(id)}"]`); }

  function show(result) {
    for (const td of form.querySelectorAll("td[data-cell]")) td.classList.remove("error", "warning", "info");
    list.replaceChildren();
    for (const [cell, value] of Object.entries(result.prefilled || {})) {
      const input = cellInput(cell);
      if (input && input.value === "") { input.value = String(value); input.closest("td").classList.add("prefilled"); input.title = "按上年报告的结转下年度预填"; }
    }
    previous.textContent = result.previous ? `上年报告：${result.previous.agency}（${result.previous.year}年度）；上年结转已按其结转下年度预填` : "";
    const findings = result.findings.filter((f) => !(f.rule === "structure.cells_missing" && f.cells.length > 40));
    const blank = result.findings.length - findings.length;
    status.textContent = result.findings.length ? `${result.findings.filter((f) => f.severity === "error").length} 个错误，` +
      `${result.findings.filter((f) => f.severity !== "error").length} 个警告或提示` + (blank ? "（还有很多空白单元格）" : "") : "没有发现问题，可以下载";
    for (const f of findings) {
      const li = document.createElement("li");
      li.className = f.severity;
      li.dataset.rule = f.rule;
      li.dataset.cells = f.cells.join(" ");
      li.innerHTML = `<div><span class="badge severity ${f.severity}"></span> <span class="rule"></span> <span class="badge info origin"></span></div><div class="message"></div><div class="rule-id"></div>`;
      li.querySelector(".severity").textContent = SEVERITY[f.severity] || f.severity;
      li.querySelector(".rule").textContent = f.rule_zh || f.rule;
      li.querySelector(".origin").textContent = ORIGIN[f.origin] || f.origin;
      li.querySelector(".rule-id").textContent = f.rule;
      li.querySelector(".message").textContent = f.message;
      li.addEventListener("click", () => { const input = cellInput((f.suspects[0] || f.cells[0] || "")); if (input) input.focus(); });
      list.appendChild(li);
      for (const cell of (f.suspects.length ? f.suspects : f.cells)) {
        const input = cellInput(cell);
        if (input && !input.closest("td").classList.contains("error")) input.closest("td").classList.add(f.severity);
      }
    }
  }

  async function check() {
    const mine = ++sequence;
    failure.textContent = "";
    try {
      const r = await fetch("/api/draft/check", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(draft()) });
      const body = await r.json();
      if (mine !== sequence) return; // a later change is being checked
      if (!r.ok) { status.textContent = "草稿有误"; failure.textContent = body.detail || r.statusText; return; }
      show(body);
    } catch (e) { if (mine === sequence) failure.textContent = `无法核对：${e}`; }
  }

  form.addEventListener("input", (e) => {
    if (e.target.name === "meta.template") return;
    clearTimeout(timer); timer = setTimeout(check, 250);
  });
  form.addEventListener("change", (e) => {
    if (e.target.name !== "meta.template") return;
    const d = draft();
    location.search = new URLSearchParams({ year: d.meta.year || "", template: e.target.value, agency: d.meta.agency || "" }).toString();
  });
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", async () => {
      failure.textContent = "";
      const format = button.dataset.download;
      const r = await fetch(`/api/draft/render?format=${format}`, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(draft()) });
      if (!r.ok) { const body = await r.json().catch(() => ({})); failure.textContent = body.detail || r.statusText; return; }
      const url = URL.createObjectURL(await r.blob());
      const a = Object.assign(document.createElement("a"), { href: url, download: `年度报告.${format}` });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
  }
  check();
})();
