// The MeshAPI inspector page. Plain JavaScript, no build step, no dependencies: every piece of data
// comes from the gateway's /_admin routes with the admin token, and is rendered with textContent only
// (never as HTML), so a request body cannot inject markup into the page.
"use strict";

(function () {
  const POLL_MS = 1000;
  const TOKEN_KEY = "meshapi-inspector-token";
  let token = null;
  let lastListJson = "";
  let pollTimer = null;

  // -- tiny DOM helpers ---------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  const pretty = (value) => JSON.stringify(value, null, 2);
  function message(id, text, good) {
    const node = $(id);
    node.textContent = text;
    node.className = "message " + (good ? "good" : "bad");
  }

  // -- token: from the URL fragment once, then sessionStorage --------------------------------------
  function takeToken() {
    const match = /(?:^#|[&#])key=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search + "#/");
    }
    token = sessionStorage.getItem(TOKEN_KEY);
  }

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + token }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (err) { data = text; }
    if (response.status === 401) showLogin("The admin token was refused.");
    if (!response.ok) {
      const error = data && data.error ? data.error.message || data.error.code : "HTTP " + response.status;
      const failure = new Error(error);
      failure.status = response.status;
      throw failure;
    }
    return data;
  }

  // -- routing ------------------------------------------------------------------------------------
  const VIEWS = ["login", "view-requests", "view-request", "view-faults", "view-replies", "view-limits", "view-reset"];
  function show(id) {
    for (const view of VIEWS) $(view).hidden = view !== id;
    for (const link of document.querySelectorAll("nav a")) {
      link.classList.toggle("active", link.id === "nav-" + id.replace("view-", "").replace(/^request$/, "requests"));
    }
  }
  function showLogin(reason) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("login-error").textContent = reason || "";
    show("login");
  }
  function route() {
    if (!token) { showLogin(""); return; }
    const hash = location.hash.replace(/^#/, "") || "/";
    const detail = /^\/requests\/(\d+)$/.exec(hash);
    if (detail) { show("view-request"); loadDetail(Number(detail[1])); return; }
    if (hash === "/faults") { show("view-faults"); loadFaults(); return; }
    if (hash === "/replies") { show("view-replies"); loadReplies(); return; }
    if (hash === "/limits") { show("view-limits"); loadLimits(); return; }
    if (hash === "/reset") { show("view-reset"); return; }
    show("view-requests");
    lastListJson = "";
    poll();
  }

  // -- the live list ------------------------------------------------------------------------------
  function fmtTime(seconds) {
    const d = new Date(seconds * 1000);
    return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }
  function fmtMs(ms) { return ms === null || ms === undefined ? "" : ms < 1000 ? ms.toFixed(1) + " ms" : (ms / 1000).toFixed(2) + " s"; }
  function statusClass(status) {
    if (status === null || status === undefined) return "";
    return status < 300 ? "status-ok" : status < 500 && status !== 429 ? "status-warn" : "status-bad";
  }

  // Rows newest first; attempts sharing an Idempotency-Key are kept together under the newest one.
  function groupRows(rows) {
    const byKey = new Map();
    for (const row of rows) {
      if (!row.idempotency_key) continue;
      if (!byKey.has(row.idempotency_key)) byKey.set(row.idempotency_key, []);
      byKey.get(row.idempotency_key).push(row);
    }
    const out = [];
    const placed = new Set();
    for (const row of rows) {
      if (placed.has(row.id)) continue;
      const group = row.idempotency_key ? byKey.get(row.idempotency_key) : [row];
      group.forEach((member, index) => {
        placed.add(member.id);
        out.push({ row: member, lead: index === 0, attempt: group.length - index, attempts: group.length });
      });
    }
    return out;
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (!token) return;
    try {
      const data = await api("GET", "/_admin/requests/summary?limit=500");
      $("live").textContent = "live";
      $("live").className = "live on";
      const text = JSON.stringify(data.requests) + $("show-admin").checked;
      if (text !== lastListJson) {
        lastListJson = text;
        renderList(data);
      }
    } catch (err) {
      $("live").textContent = "disconnected";
      $("live").className = "live off";
    }
    if (!$("view-requests").hidden) pollTimer = setTimeout(poll, POLL_MS);
  }

  function renderList(data) {
    const showAdmin = $("show-admin").checked;
    const rows = data.requests.filter((r) => showAdmin || !r.path.startsWith("/_admin"));
    const body = document.querySelector("#requests tbody");
    body.replaceChildren();
    for (const { row, lead, attempt, attempts } of groupRows(rows)) {
      const tokens = row.tokens_in === null && row.tokens_out === null ? "" : `${row.tokens_in ?? 0} / ${row.tokens_out ?? 0}`;
      const retries = attempts > 1 ? (lead ? `${attempts - 1} (attempt ${attempt} of ${attempts})` : `attempt ${attempt} of ${attempts}`) : "";
      const tr = el("tr", { class: lead ? "request" : "request retry", dataset: { id: row.id, requestId: row.request_id } },
        el("td", {}, fmtTime(row.time)),
        el("td", {}, row.method),
        el("td", { class: "mono" }, row.path),
        el("td", {}, row.model || ""),
        el("td", { class: statusClass(row.status) }, row.status === null ? (row.done ? "dropped" : "…") : row.status,
          row.faulted ? " (fault)" : ""),
        el("td", { class: "num" }, fmtMs(row.duration_ms ?? row.latency_ms)),
        el("td", { class: "num" }, tokens),
        el("td", { class: "num" }, row.cost || ""),
        el("td", { class: "mono" }, row.request_id),
        el("td", {}, row.streamed ? "yes" : ""),
        el("td", {}, retries));
      tr.addEventListener("click", () => { location.hash = "#/requests/" + row.id; });
      body.append(tr);
    }
    $("requests-empty").hidden = rows.length > 0;
    $("req-count").textContent = `${rows.length} shown, ${data.total} logged`;
  }

  // -- one request --------------------------------------------------------------------------------
  function contentText(content) {
    if (content === null || content === undefined) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content.map((part) => {
        if (part && (part.type === "text" || part.type === "input_text" || part.type === "output_text")) return part.text;
        if (part && part.type === "image_url") return "[image " + (part.image_url && part.image_url.url ? part.image_url.url.slice(0, 60) : "") + "]";
        return pretty(part);
      }).join("\n");
    }
    return pretty(content);
  }
  function conversation(messages) {
    const box = el("div", { class: "conversation" });
    for (const m of messages) {
      const role = m && m.role ? String(m.role) : "?";
      const node = el("div", { class: "msg " + role }, el("div", { class: "role" }, role + (m.name ? " · " + m.name : "")));
      node.append(el("div", { class: "text" }, contentText(m.content)));
      if (m.tool_calls) node.append(el("pre", {}, pretty(m.tool_calls)));
      if (m.tool_call_id) node.append(el("div", { class: "muted" }, "answers tool call " + m.tool_call_id));
      box.append(node);
    }
    return box;
  }
  function toolsView(tools) {
    const box = el("div", {});
    for (const tool of tools) {
      const fn = tool && tool.function ? tool.function : tool;
      box.append(el("div", { class: "tool-def" },
        el("strong", { class: "mono" }, (fn && fn.name) || tool.type || "tool"),
        fn && fn.description ? el("div", {}, fn.description) : null,
        fn && fn.parameters ? el("pre", {}, pretty(fn.parameters)) : null));
    }
    return box;
  }
  function paramsTable(body, skip) {
    const table = el("table", { class: "params" });
    for (const [key, value] of Object.entries(body)) {
      if (skip.includes(key)) continue;
      table.append(el("tr", {}, el("td", {}, key), el("td", { class: "mono" }, typeof value === "string" ? value : JSON.stringify(value))));
    }
    return table;
  }
  function requestView(record) {
    const box = el("div", {});
    const body = record.json;
    if (record.body_truncated) box.append(el("p", { class: "muted" }, `Body of ${record.body_size} bytes not kept (over the per-record limit).`));
    if (body && typeof body === "object" && !Array.isArray(body)) {
      const skip = ["messages", "input", "tools", "response_format", "text"];
      box.append(paramsTable(body, skip));
      if (Array.isArray(body.messages)) box.append(el("h3", {}, "Messages"), conversation(body.messages));
      if (typeof body.input === "string") box.append(el("h3", {}, "Input"), conversation([{ role: "user", content: body.input }]));
      else if (Array.isArray(body.input)) box.append(el("h3", {}, "Input"), conversation(body.input.map((m) => (typeof m === "string" ? { role: "user", content: m } : m))));
      if (Array.isArray(body.tools)) box.append(el("h3", {}, "Tools"), toolsView(body.tools));
      const format = body.response_format || (body.text && body.text.format);
      if (format) {
        const schema = format.json_schema || format;
        box.append(el("h3", {}, "Response format: " + (format.type || "")),
          schema.name ? el("div", { class: "mono" }, schema.name) : null,
          el("pre", {}, pretty(schema.schema || schema)));
      }
    } else if (body !== null && body !== undefined) {
      box.append(el("pre", {}, pretty(body)));
    } else if (!record.body_truncated) {
      box.append(el("p", { class: "muted" }, record.body_size ? `${record.body_size} bytes (not JSON)` : "No body."));
    }
    box.append(el("details", {}, el("summary", {}, "headers"), el("pre", {}, pretty(record.headers))),
      body !== null && body !== undefined ? el("details", {}, el("summary", {}, "raw JSON"), el("pre", {}, pretty(body))) : null);
    return box;
  }
  function eventData(text) {
    return text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
  }
  function responseView(record) {
    const res = record.response;
    const box = el("div", {});
    if (record.status === null) box.append(el("p", { class: "status-bad" }, record.done ? "The connection closed before a response was sent." : "Still in flight."));
    if (record.fault) box.append(el("details", { open: true }, el("summary", {}, "fault applied"), el("pre", {}, pretty(record.fault))));
    if (record.streamed) {
      let text = "";
      const table = el("table", { class: "events" }, el("tr", {}, el("th", {}, "#"), el("th", {}, "at"), el("th", {}, "event")));
      res.events.forEach((event, index) => {
        table.append(el("tr", {}, el("td", {}, index + 1), el("td", { class: "num" }, fmtMs(event.ms)), el("td", { class: "mono" }, event.text)));
        const data = eventData(event.text);
        try {
          const parsed = JSON.parse(data);
          const delta = parsed.choices && parsed.choices[0] && parsed.choices[0].delta;
          if (delta && typeof delta.content === "string") text += delta.content;
          else if (parsed.type === "response.output_text.delta" && typeof parsed.delta === "string") text += parsed.delta;
          if (parsed.error) box.append(el("div", { class: "envelope" }, el("strong", {}, "error event"), el("pre", {}, pretty(parsed))));
        } catch (err) { /* [DONE] and non-JSON frames */ }
      });
      if (text) box.append(el("h3", {}, "Streamed answer"), conversation([{ role: "assistant", content: text }]));
      box.append(el("h3", {}, `Events (${res.event_count})`), table);
      if (res.truncated) box.append(el("p", { class: "muted" }, "Later events not kept (over the per-record limit)."));
    } else if (res.body !== null && res.body !== undefined) {
      const body = res.body;
      if (record.status >= 400 && body && body.error) {
        box.append(el("div", { class: "envelope" }, el("strong", {}, `${record.status} ${body.error.code || ""}`),
          el("div", {}, body.error.message || ""), el("pre", {}, pretty(body))));
      } else {
        const msg = body && body.choices && body.choices[0] && body.choices[0].message;
        if (msg) box.append(conversation([msg]));
        box.append(el("pre", {}, typeof body === "string" ? body : pretty(body)));
      }
    } else if (res.size) {
      box.append(el("p", { class: "muted" }, `${res.size} bytes (${res.headers["content-type"] || "binary"})` + (res.truncated ? ", not kept" : "")));
    }
    box.append(el("details", {}, el("summary", {}, "headers"), el("pre", {}, pretty(res.headers))));
    return box;
  }
  async function loadDetail(id) {
    $("detail-title").textContent = "Loading…";
    let record;
    try { record = await api("GET", "/_admin/requests/" + id); } catch (err) {
      $("detail-title").textContent = "Request " + id + ": " + err.message;
      $("detail-summary").replaceChildren(); $("detail-request").replaceChildren(); $("detail-response").replaceChildren();
      return;
    }
    $("detail-title").textContent = `${record.method} ${record.path}`;
    const facts = [["status", record.status ?? "—"], ["model", record.model || "—"], ["request id", record.request_id],
      ["time", fmtTime(record.time)], ["first byte", fmtMs(record.latency_ms)], ["total", fmtMs(record.duration_ms)],
      ["tokens in / out", record.tokens_in === null ? "—" : `${record.tokens_in} / ${record.tokens_out}`],
      ["cost (USD)", record.cost || "—"], ["idempotency key", record.idempotency_key || "—"],
      ["streamed", record.streamed ? "yes" : "no"], ["body size", record.body_size + " B"], ["response size", record.response.size + " B"]];
    $("detail-summary").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, v)]));
    $("detail-request").replaceChildren(requestView(record));
    $("detail-response").replaceChildren(responseView(record));
  }

  // -- faults -------------------------------------------------------------------------------------
  async function loadFaults() {
    try {
      const data = await api("GET", "/_admin/faults");
      const body = document.querySelector("#faults tbody");
      body.replaceChildren(...data.faults.map((f) => {
        const what = Object.entries(f).filter(([k, v]) => !["route", "method", "times", "hits", "stall_seconds", "error_code", "truncate_body", "ws_close_after_events", "keepalive_interval"].includes(k) && v !== false)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
        return el("tr", {}, el("td", { class: "mono" }, f.route), el("td", {}, f.method || "any"),
          el("td", {}, `${f.hits} / ${f.times === -1 ? "∞" : f.times}`), el("td", { class: "mono" }, what));
      }));
      $("faults-empty").hidden = data.faults.length > 0;
    } catch (err) { message("fault-message", "Could not list faults: " + err.message, false); }
  }
  async function addFault(event) {
    event.preventDefault();
    const form = event.target;
    const spec = {};
    for (const name of ["route", "method", "retry_after"]) if (form[name].value.trim()) spec[name] = form[name].value.trim();
    for (const name of ["times", "status", "error_event_after", "drop_after_events"]) if (form[name].value !== "") spec[name] = parseInt(form[name].value, 10);
    for (const name of ["delay_first_byte", "first_event_delay", "keepalive_seconds"]) if (form[name].value !== "") spec[name] = parseFloat(form[name].value);
    if (form.tool_calls_without_index.checked) spec.tool_calls_without_index = true;
    if (form.extra.value.trim()) {
      try { Object.assign(spec, JSON.parse(form.extra.value)); } catch (err) { message("fault-message", "More fields: not a JSON object.", false); return; }
    }
    try {
      await api("POST", "/_admin/faults", spec);
      message("fault-message", `Fault added for ${spec.route}.`, true);
    } catch (err) { message("fault-message", "Not added: " + err.message, false); }
    loadFaults();
  }
  async function clearFaults() {
    try { await api("DELETE", "/_admin/faults"); message("fault-message", "All faults cleared.", true); } catch (err) { message("fault-message", err.message, false); }
    loadFaults();
  }

  // -- scripted replies ---------------------------------------------------------------------------
  async function loadReplies() {
    try {
      const data = await api("GET", "/_admin/replies");
      $("replies-text").value = pretty(data && data.replies !== undefined ? data.replies : data);
      $("replies-message").textContent = "";
    } catch (err) {
      $("replies-text").value = "";
      message("replies-message", err.status === 404 ? "This gateway has no scripted replies route." : "Could not load replies: " + err.message, false);
    }
  }
  async function saveReplies() {
    let replies;
    try { replies = JSON.parse($("replies-text").value || "[]"); } catch (err) { message("replies-message", "Not valid JSON: " + err.message, false); return; }
    try { await api("PUT", "/_admin/replies", { replies }); message("replies-message", "Replies saved.", true); } catch (err) { message("replies-message", "Not saved: " + err.message, false); }
  }
  async function clearReplies() {
    try { await api("DELETE", "/_admin/replies"); $("replies-text").value = "[]"; message("replies-message", "Replies cleared.", true); } catch (err) { message("replies-message", err.message, false); }
  }

  // -- rate limits and reset ----------------------------------------------------------------------
  async function loadLimits() {
    const form = $("limits-form");
    delete form.dataset.loaded;
    try {
      const data = await api("GET", "/_admin/limits");
      form.rpm.value = data.rpm ?? ""; form.rpd.value = data.rpd ?? "";
      form.dataset.loaded = "1";
    } catch (err) { message("limits-message", "Could not read limits: " + err.message, false); }
  }
  async function saveLimits(event) {
    event.preventDefault();
    const form = event.target;
    const value = (input) => (input.value === "" ? null : parseInt(input.value, 10));
    try {
      const data = await api("PUT", "/_admin/limits", { rpm: value(form.rpm), rpd: value(form.rpd) });
      message("limits-message", `Limits: ${data.rpm ?? "unlimited"} per minute, ${data.rpd ?? "unlimited"} per day.`, true);
    } catch (err) { message("limits-message", "Not saved: " + err.message, false); }
  }
  async function reset() {
    $("reset-confirm").hidden = true;
    try {
      const data = await api("POST", "/_admin/reset", { requests: true, data: true });
      message("reset-message", `Reset done (${data.deleted} stored records deleted).`, true);
    } catch (err) { message("reset-message", "Not reset: " + err.message, false); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeToken();
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("login-token").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      token = value;
      $("login-token").value = "";
      location.hash = "#/";
      route();
    });
    $("show-admin").addEventListener("change", () => { lastListJson = ""; poll(); });
    $("fault-form").addEventListener("submit", addFault);
    $("fault-clear").addEventListener("click", clearFaults);
    $("replies-save").addEventListener("click", saveReplies);
    $("replies-clear").addEventListener("click", clearReplies);
    $("limits-form").addEventListener("submit", saveLimits);
    $("reset-button").addEventListener("click", () => { $("reset-confirm").hidden = false; });
    $("reset-confirm").addEventListener("click", reset);
    window.addEventListener("hashchange", route);
    route();
  });
})();
