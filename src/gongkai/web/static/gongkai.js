/* gongkai reviewer: provenance panel, finding ↔ cell highlighting, sortable/filterable lists, upload.
   Every value from a report is put into the page with textContent, never as HTML. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  /* every write carries the page's CSRF token (web/security.py); forms carry it as a hidden field */
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }
  function jsonIn(root, sel) {
    var s = root.querySelector(sel);
    if (!s) return {};
    try { return JSON.parse(s.textContent); } catch (e) { return {}; }
  }

  /* ── provenance ───────────────────────────────────────────── */
  function showProvenance(td) {
    var report = td.closest(".report");
    if (!report) return;
    var id = td.getAttribute("data-cell");
    var data = jsonIn(report, "script.prov-data");
    var p = data[id] || {};
    var panel = report.querySelector(".prov-panel");
    panel.textContent = "";
    report.querySelectorAll("td.selected").forEach(function (x) { x.classList.remove("selected"); });
    td.classList.add("selected");

    var dl = el("dl");
    function row(k, v) { if (v === undefined || v === null || v === "") return; dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    row("单元格", p.label || id);
    row("编号", id);
    row("数值", td.textContent.trim() === "" ? "空（null）" : td.textContent.trim());
    row("原文", p.raw !== undefined ? JSON.stringify(p.raw) : null);
    row("行号", p.line);
    if (typeof p.start === "number") row("字符", "本行第 " + (p.start + 1) + "–" + p.end + " 个字符");
    if (p.table !== undefined) row("表格", "第 " + (p.table + 1) + " 个表格，第 " + ((p.row || 0) + 1) + " 行第 " + ((p.col || 0) + 1) + " 列");
    row("页码", p.page);
    if (p.bbox) row("位置", p.bbox.map(function (x) { return Math.round(x); }).join(", "));
    panel.appendChild(dl);
    if (!data[id] || (p.raw === undefined && p.line === undefined && p.page === undefined && p.table === undefined)) {
      panel.appendChild(el("p", "empty", "这个单元格没有记录出处（可能报告中缺少它）。"));
    }

    if (p.line) {
      var pre = el("pre", "source");
      panel.appendChild(pre);
      var url = report.getAttribute("data-source-url");
      if (url) {
        fetch(url + "?line=" + encodeURIComponent(p.line), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { lines: [] }; })
          .then(function (j) { fillSource(pre, j.lines || [], p); });
      } else {
        var lines = jsonIn(report, "script.source-lines"), got = [];
        for (var n = p.line - 3; n <= p.line + 3; n++) if (lines[n] !== undefined) got.push([n, lines[n]]);
        fillSource(pre, got, p);
      }
    }
    if (p.page) {
      var box = el("div", "page-view");
      box.title = "点击放大或缩小";
      var img = el("img");
      img.alt = "第 " + p.page + " 页";
      var scale = parseFloat(report.getAttribute("data-page-scale") || "1");
      var base = report.getAttribute("data-page-url");
      if (base) img.src = base + p.page + ".png";
      else { var pages = jsonIn(report, "script.page-images"); if (pages[p.page]) { img.src = pages[p.page].src; scale = pages[p.page].scale; } }
      box.appendChild(img);
      if (p.bbox) {
        var mark = el("div", "bbox");
        box.appendChild(mark);
        img.addEventListener("load", function () {
          var W = img.naturalWidth / scale, H = img.naturalHeight / scale, b = p.bbox;
          mark.style.left = (100 * b[0] / W) + "%"; mark.style.top = (100 * b[1] / H) + "%";
          mark.style.width = (100 * (b[2] - b[0]) / W) + "%"; mark.style.height = (100 * (b[3] - b[1]) / H) + "%";
          mark.scrollIntoView({ block: "nearest" });
        });
      }
      panel.appendChild(box);
    }
    if (p.corrected) {
      var was = p.corrected.parsed === null || p.corrected.parsed === undefined ? "空" : p.corrected.parsed;
      panel.appendChild(el("p", "corrected-note", "人工更正（第" + p.corrected.version + "版）：原解析值 " + was + "；" + p.corrected.actor + "：" + p.corrected.reason));
    }
    var correctUrl = report.getAttribute("data-correct-url");
    if (correctUrl) panel.appendChild(correctionForm(correctUrl, id, td.textContent.trim()));
    var ids = (td.getAttribute("data-findings") || "").split(" ").filter(Boolean);
    report.querySelectorAll("[data-finding]").forEach(function (li) {
      li.classList.toggle("active", ids.indexOf(li.getAttribute("data-finding")) >= 0);
    });
  }
  /* a cell corrected by a person: a plain form (the server answers with the report page, now a new version) */
  function correctionForm(url, id, now) {
    var form = el("form", "correct");
    form.method = "post";
    form.action = url;
    form.appendChild(el("h3", null, "更正这个单元格"));
    function hidden(name, value) { var i = el("input"); i.type = "hidden"; i.name = name; i.value = value; form.appendChild(i); }
    hidden("csrf_token", csrf());
    hidden("cell_id", id);
    var value = el("input"); value.name = "value"; value.required = true; value.value = now; value.placeholder = "新值（空白写“空”）";
    value.setAttribute("aria-label", "新值");
    var reason = el("input"); reason.name = "reason"; reason.required = true; reason.maxLength = 500; reason.placeholder = "理由（必填）";
    reason.setAttribute("aria-label", "更正理由");
    var button = el("button", null, "更正并重新核验"); button.type = "submit";
    var l1 = el("label", null, "新值 "); l1.appendChild(value);
    var l2 = el("label", null, "理由 "); l2.appendChild(reason);
    form.appendChild(l1); form.appendChild(l2); form.appendChild(button);
    form.appendChild(el("p", "muted", "原解析值永不覆盖：更正生成新版本，按同一规则重新核验，记入审计日志。"));
    return form;
  }
  /* The lines around a value's line; within that line exactly the value's characters are marked
     (p.start … p.end, in characters of the line), else the whole line. A long line (glued text) is
     shown as the stretch around the value. */
  function fillSource(pre, lines, p) {
    pre.textContent = "";
    if (!lines.length) { pre.textContent = "（原文不可用）"; return; }
    var mark = null;
    lines.forEach(function (pair) {
      var head = String(pair[0]).padStart(5, " ") + "  ";
      if (pair[0] !== p.line) { pre.appendChild(document.createTextNode(head + pair[1] + "\n")); return; }
      var chars = Array.from(String(pair[1]));  // offsets count characters, not UTF-16 units
      if (typeof p.start !== "number" || typeof p.end !== "number" || p.end > chars.length || p.start >= p.end) {
        mark = pre.appendChild(el("mark", null, head + pair[1] + "\n"));
        return;
      }
      var from = Math.max(0, p.start - CONTEXT), to = Math.min(chars.length, p.end + CONTEXT);
      var line = pre.appendChild(el("span", "source-line"));
      line.appendChild(document.createTextNode(head + (from > 0 ? "…" : "") + chars.slice(from, p.start).join("")));
      mark = line.appendChild(el("mark", "value", chars.slice(p.start, p.end).join("")));
      line.appendChild(document.createTextNode(chars.slice(p.end, to).join("") + (to < chars.length ? "…" : "") + "\n"));
    });
    if (mark) mark.scrollIntoView({ block: "nearest" });
  }
  var CONTEXT = 80;  // characters shown either side of a value in a long line
  function highlightFinding(li) {
    var report = li.closest(".report");
    report.querySelectorAll("td.flash").forEach(function (x) { x.classList.remove("flash"); });
    report.querySelectorAll("[data-finding].active").forEach(function (x) { x.classList.remove("active"); });
    li.classList.add("active");
    var first = null;
    (li.getAttribute("data-cells") || "").split(" ").filter(Boolean).forEach(function (id) {
      var td = report.querySelector('td[data-cell="' + CSS.escape(id) + '"]');
      if (td) { td.classList.add("flash"); first = first || td; }
    });
    if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
  }
  document.addEventListener("click", function (e) {
    var td = e.target.closest && e.target.closest("td[data-cell]");
    if (td) { showProvenance(td); return; }
    var pv = e.target.closest && e.target.closest(".page-view");
    if (pv) { pv.classList.toggle("zoom"); return; }
    if (e.target.closest && e.target.closest("form")) return;  // a decision's buttons and reason field
    var li = e.target.closest && e.target.closest("[data-finding], [data-finding-id]");
    if (li && li.closest(".report")) highlightFinding(li);
  });

  /* ── sortable and filterable lists ─────────────────────────── */
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("sorted-asc");
        table.querySelectorAll("th").forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(asc ? "sorted-asc" : "sorted-desc");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var num = th.getAttribute("data-type") === "num";
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
          var c = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y, "zh-CN", { numeric: true });
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  function applyFilter(id) {
    var table = document.getElementById(id);
    if (!table) return;
    var q = (document.querySelector('.table-filter[data-target="' + id + '"]') || {}).value || "";
    var only = (document.querySelector('.only-errors[data-target="' + id + '"]') || {}).checked;
    q = q.trim().toLowerCase();
    var selects = document.querySelectorAll('.col-filter[data-target="' + id + '"]');
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var ok = (!q || r.textContent.toLowerCase().indexOf(q) >= 0) && (!only || parseInt(r.getAttribute("data-errors") || "0", 10) > 0);
      selects.forEach(function (s) { if (s.value && r.getAttribute("data-" + s.getAttribute("data-key")) !== s.value) ok = false; });
      r.style.display = ok ? "" : "none";
    });
  }
  document.querySelectorAll(".table-filter, .only-errors, .col-filter").forEach(function (input) {
    input.addEventListener("input", function () { applyFilter(input.getAttribute("data-target")); });
    input.addEventListener("change", function () { applyFilter(input.getAttribute("data-target")); });
  });

  /* ── upload with drag and drop, then poll the parse jobs ───── */
  var form = document.getElementById("upload");
  if (!form || !window.fetch) return;
  var input = document.getElementById("file-input"), list = document.getElementById("jobs");
  var STATUS = { queued: "排队中", parsing: "解析中", done: "完成", failed: "失败" };
  function send(files) {
    if (!files || !files.length) return;
    var fd = new FormData();
    Array.prototype.forEach.call(files, function (f) { fd.append("files", f, f.name); });
    fetch("/upload", { method: "POST", body: fd, headers: { Accept: "application/json", "X-CSRF-Token": csrf() }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.body.detail || "上传失败"); return; }
        var none = list.querySelector(".none"); if (none) none.remove();
        res.body.jobs.forEach(renderJob);
        poll(res.body.jobs.map(function (j) { return j.id; }));
      })
      .catch(function () { showError("上传失败：网络错误"); });
  }
  /* an upload refused (too large, too many, wrong type, network) stays on the page, across reloads,
     until the reviewer dismisses it: kept in localStorage, shown in #upload-errors */
  var KEY = "gongkai.uploadErrors", errorBox = document.getElementById("upload-errors");
  function storedErrors() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function saveErrors(list) { try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode: shown until reload */ } }
  function drawErrors() {
    if (!errorBox) return;
    errorBox.textContent = "";
    storedErrors().forEach(function (item) {
      var li = el("li", "status-failed");
      li.appendChild(el("span", "muted", item.time));
      li.appendChild(el("span", "message", item.text));
      var b = el("button", "dismiss", "知道了");
      b.type = "button";
      b.addEventListener("click", function () { saveErrors(storedErrors().filter(function (x) { return x.id !== item.id; })); drawErrors(); });
      li.appendChild(b);
      errorBox.appendChild(li);
    });
  }
  function showError(msg) {
    var text = typeof msg === "string" ? msg : JSON.stringify(msg), list = storedErrors();
    list.unshift({ id: Date.now() + "-" + Math.random().toString(36).slice(2), time: new Date().toLocaleString("zh-CN"), text: "上传失败：" + text });
    saveErrors(list.slice(0, 50));
    drawErrors();
  }
  drawErrors();
  function renderJob(j) {
    if (!j.id && j.status === "failed") { showError(j.name + "：" + (j.message || "无法解析")); return; }  // refused on arrival: kept by no job
    var li = list.querySelector('li[data-job="' + j.id + '"]');
    if (!li) { li = el("li"); li.setAttribute("data-job", j.id); list.prepend(li); }
    li.className = "status-" + j.status;
    li.textContent = "";
    li.appendChild(document.createTextNode(j.name + "："));
    li.appendChild(el("span", "status", STATUS[j.status] || j.status));
    if ((j.status === "queued" || j.status === "parsing") && j.pages) {
      li.appendChild(el("span", "pages muted", "（扫描件，已识别 " + (j.pages_done || 0) + "/" + j.pages + " 页）"));
    }
    if (j.message) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "muted", j.message)); }
    if (j.status === "done" && j.errors !== null && j.errors !== undefined) {
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "badge " + (j.errors ? "error" : "ok"), "错误 " + j.errors));
      li.appendChild(el("span", "badge " + (j.warnings ? "warning" : "ok"), "警告 " + j.warnings));
    }
    if (j.status === "done") { li.appendChild(document.createTextNode(" ")); var a = el("a", null, "查看"); a.href = "/reports/" + j.id; li.appendChild(a); }
  }
  function poll(ids) {
    var pending = ids.filter(Boolean);
    if (!pending.length) return;
    setTimeout(function () {
      fetch("/api/jobs?ids=" + pending.join(","), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (jobs) {
        jobs.forEach(renderJob);
        var left = jobs.filter(function (j) { return j.status === "queued" || j.status === "parsing"; }).map(function (j) { return j.id; });
        if (left.length) poll(left); else refreshList();
      });
    }, 700);
  }
  function refreshList() { setTimeout(function () { location.reload(); }, 300); }
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files); input.value = ""; });
  input.addEventListener("change", function () { send(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (n) { form.addEventListener(n, function (e) { e.preventDefault(); form.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (n) { form.addEventListener(n, function (e) { e.preventDefault(); form.classList.remove("over"); }); });
  form.addEventListener("drop", function (e) { send(e.dataTransfer.files); });
})();
