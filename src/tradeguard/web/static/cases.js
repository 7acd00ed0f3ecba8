// Behaviour of the compliance console: the alert queue of every source, an alert's evidence,
// and the case page (assignment, notes, decision, account restriction, referral).
// Text from the server is only ever placed with textContent, never parsed as HTML.
import { ApiError, byId, button, complain, describe, guarded, make, say, signedInCall } from "/static/web/auth.js";

const API = "/v1/compliance";
const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 640, height: 160, pad: 8 };

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function words(text) {
  return String(text).replaceAll("_", " ");
}

function when(text) {
  return text.replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function row(cells) {
  const line = make("tr");
  for (const value of cells) {
    if (value instanceof Node) {
      const cell = make("td");
      cell.append(value);
      line.append(cell);
    } else {
      line.append(make("td", value));
    }
  }
  return line;
}

// ---------------------------------------------------------------- evidence

function part(root, name) {
  return root.querySelector(`[data-part="${name}"]`);
}

function facts(list, pairs) {
  list.replaceChildren();
  for (const [term, value] of pairs) list.append(make("dt", term), make("dd", value));
}

function measureRows(measures) {
  return measures.map((measure) => {
    const met = measure.met === null ? "—" : measure.met ? "✓ met" : "✗ not met";
    const line = row([measure.label, measure.value, measure.threshold || "—", met]);
    if (measure.met !== null) line.className = measure.met ? "met" : "unmet";
    return line;
  });
}

function evidenceTable(source) {
  const block = make("div");
  const table = make("table", undefined, "evidence-table");
  const head = make("tr");
  for (const column of source.columns) {
    const cell = make("th", column);
    cell.scope = "col";
    head.append(cell);
  }
  const thead = make("thead");
  thead.append(head);
  const body = make("tbody");
  body.append(...source.rows.map((cells) => row(cells)));
  table.append(thead, body);
  block.append(make("h4", `${source.title} (${source.rows.length})`), table);
  return block;
}

// The episode's prices over time (trades, and orders where the rule is about orders),
// drawn as a line with a dot per moment; each dot's title says what happened.
function priceChart(timeline) {
  const points = timeline.filter((moment) => moment.price !== null);
  if (points.length < 2) return make("p", "Fewer than two prices in the episode: no chart.");
  const times = points.map((moment) => moment.ts_ns / 1e9);
  const prices = points.map((moment) => Number(moment.price));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const [p0, p1] = [Math.min(...prices), Math.max(...prices)];
  const x = (t) => CHART.pad + ((t - t0) / (t1 - t0 || 1)) * (CHART.width - 2 * CHART.pad);
  const y = (p) => CHART.height - CHART.pad - ((p - p0) / (p1 - p0 || 1)) * (CHART.height - 2 * CHART.pad);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${CHART.width} ${CHART.height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Prices from ${p0} to ${p1} over ${Math.round(t1 - t0)} seconds`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.map((_, i) => `${x(times[i])},${y(prices[i])}`).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  svg.append(line);
  points.forEach((moment, i) => {
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", x(times[i]));
    dot.setAttribute("cy", y(prices[i]));
    dot.setAttribute("r", "3");
    const label = document.createElementNS(SVG, "title");
    label.textContent = `${when(moment.at)}: ${moment.what}`;
    dot.append(label);
    svg.append(dot);
  });
  const caption = make("p", `Low ${p0}, high ${p1}, ${points.length} prices`);
  const figure = make("figure");
  figure.append(svg, caption);
  return figure;
}

function showEvidence(root, alert) {
  const shown = alert.presentation;
  part(root, "summary").textContent = shown ? shown.summary : words(alert.typology);
  facts(part(root, "facts"), [
    ["Source", alert.source],
    ["Typology", words(alert.typology)],
    ["Rule", alert.rule],
    ["Score", alert.score.toFixed(2)],
    ["Symbol", alert.symbol || "—"],
    ["Accounts", alert.accounts.join(", ") || "—"],
    ["Window", `${when(alert.start)} to ${when(alert.end)}`],
    ["Status", words(alert.status)],
  ]);
  part(root, "measures").tBodies[0].replaceChildren(...measureRows(shown ? shown.measures : []));
  const timeline = shown ? shown.timeline : [];
  part(root, "chart").replaceChildren(priceChart(timeline));
  part(root, "timeline").replaceChildren(...timeline.map((moment) => make("li", `${when(moment.at)} — ${moment.what}`)));
  part(root, "tables").replaceChildren(...(shown ? shown.tables : []).map(evidenceTable));
  part(root, "raw").textContent = JSON.stringify({ evidence: alert.evidence, parameters: alert.parameters }, null, 2);
}

// ---------------------------------------------------------------- the alert queue

let currentAlert = null;

function queueQuery(form) {
  const query = new URLSearchParams();
  for (const input of form.querySelectorAll("select[name], input[name]")) {
    const value = input.value.trim();
    if (value === "" || (input.name === "min_score" && Number(value) === 0)) continue;
    query.set(input.name, input.name === "symbol" ? value.toUpperCase() : value);
  }
  return query.toString();
}

async function loadAlerts() {
  const query = queueQuery(byId("alert-filters"));
  const alerts = await signedInCall("GET", `${API}/alerts${query ? `?${query}` : ""}`);
  byId("queue-empty").hidden = alerts.length > 0;
  const table = byId("alert-queue");
  table.hidden = alerts.length === 0;
  table.tBodies[0].replaceChildren(
    ...alerts.map((alert) =>
      row([
        alert.score.toFixed(2),
        alert.source,
        words(alert.typology),
        alert.symbol || "—",
        alert.accounts.join(", "),
        `${when(alert.start)} – ${when(alert.end)}`,
        words(alert.status),
        button(`Review ${words(alert.typology)} ${alert.symbol || ""}`.trim(), () => openAlert(alert.id)),
      ]),
    ),
  );
}

async function openAlert(id) {
  const alert = await signedInCall("GET", `${API}/alerts/${id}`);
  currentAlert = alert;
  const section = byId("alert-detail");
  showEvidence(section, alert);
  byId("alert-heading").textContent = `Alert: ${words(alert.typology)} ${alert.symbol || ""}`.trim();
  byId("open-case-card").hidden = alert.status !== "open";
  byId("case-title").value = `${words(alert.typology)} ${alert.symbol || ""} ${alert.accounts.slice(0, 3).join(", ")}`.trim();
  section.hidden = false;
  byId("alert-heading").focus();
}

async function openCaseFromAlert() {
  if (!currentAlert) return;
  const title = byId("case-title").value.trim();
  const opened = await signedInCall("POST", `${API}/cases`, { alert_ids: [currentAlert.id], title });
  window.location.assign(`/staff/cases?case=${encodeURIComponent(opened.id)}`);
}

async function initAlerts() {
  const form = byId("alert-filters");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(byId("apply-filters"), loadAlerts);
  });
  clickable("open-case", openCaseFromAlert);
  await loadAlerts();
}

// ---------------------------------------------------------------- cases

let currentCase = null;
let me = null;

function age(seconds) {
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} days`;
}

async function loadCases() {
  const status = byId("case-status").value;
  const cases = await signedInCall("GET", `${API}/cases?status=${encodeURIComponent(status)}`);
  byId("cases-empty").hidden = cases.length > 0;
  const table = byId("case-queue");
  table.hidden = cases.length === 0;
  table.tBodies[0].replaceChildren(
    ...cases.map((item) =>
      row([
        item.title,
        item.score.toFixed(2),
        item.assignee === me ? "me" : item.assignee || "nobody",
        age(item.age_seconds),
        `${when(item.deadline)}${item.overdue ? " (overdue)" : ""}`,
        button(`Open case ${item.title}`, () => openCase(item.id)),
      ]),
    ),
  );
}

function showAlerts(alerts) {
  const template = byId("evidence-template");
  byId("case-alerts").replaceChildren(
    ...alerts.map((alert) => {
      const block = make("article", undefined, "card");
      block.append(make("h4", `${words(alert.typology)} ${alert.symbol || ""} · score ${alert.score.toFixed(2)}`));
      const evidence = template.content.cloneNode(true);
      block.append(evidence);
      showEvidence(block, alert);
      return block;
    }),
  );
  const accounts = [...new Set(alerts.flatMap((alert) => alert.accounts))];
  byId("action-account").replaceChildren(
    ...accounts.map((account) => {
      const option = make("option", account);
      option.value = account;
      return option;
    }),
  );
}

function historyLine(event) {
  const data = event.data || {};
  const detail = data.decision ? ` ${words(data.decision)}: ${data.reason}` : "";
  const actor = event.actor && event.actor.id === me ? "me" : (event.actor && event.actor.id) || "?";
  return make("li", `${when(event.ts || "")} ${words(event.type || event.event_type)} by ${actor}${detail}`);
}

async function openCase(id) {
  const detail = await signedInCall("GET", `${API}/cases/${id}`);
  currentCase = detail.case;
  const item = detail.case;
  byId("case-heading").textContent = `Case: ${item.title}`;
  byId("case-state").textContent = words(item.status);
  byId("case-decision").textContent = item.decision ? words(item.decision) : "none yet";
  byId("case-assignee").textContent = item.assignee === me ? "me" : item.assignee || "nobody";
  byId("case-opened-by").textContent = item.opened_by === me ? "me" : item.opened_by;
  byId("case-age").textContent = age(item.age_seconds);
  byId("case-deadline").textContent = `${when(item.deadline)}${item.overdue ? " (overdue)" : ""}`;
  showAlerts(detail.alerts);
  byId("case-notes").replaceChildren(
    ...detail.notes.map((note) => make("li", `${when(note.created)} ${note.author === me ? "me" : note.author}: ${note.body}`)),
  );
  byId("case-history").replaceChildren(...detail.history.map(historyLine));
  byId("referral-link").hidden = true;
  byId("case").hidden = false;
  byId("case-heading").focus();
}

async function caseStep(path, body, message) {
  if (!currentCase) return;
  await signedInCall("POST", `${API}/cases/${currentCase.id}/${path}`, body);
  say(message);
  await openCase(currentCase.id);
  await loadCases();
}

async function restrictAccount() {
  const account = byId("action-account").value;
  const state = byId("action-state").value;
  const reason = byId("action-reason").value.trim();
  if (!account) throw new Error("The case names no account.");
  await signedInCall("PUT", `${API}/accounts/${account}/trading-state`, { state, reason, cancel_open_orders: true });
  say(`Account ${account} is now ${state}.`);
}

async function makeReferral() {
  if (!currentCase) return;
  const package_ = await signedInCall("POST", `${API}/cases/${currentCase.id}/referral`);
  const link = byId("referral-link");
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([JSON.stringify(package_)], { type: "application/json" }));
  link.download = `referral-${currentCase.id}.json`;
  link.hidden = false;
  say("The signed referral package is ready.");
}

async function initCases() {
  me = (await signedInCall("GET", "/v1/me")).id;
  byId("case-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadCases().catch((error) => complain(describe(error)));
  });
  clickable("assign-me", () => caseStep("assign", { assignee: me }, "The case is assigned to you."));
  clickable("unassign", () => caseStep("assign", { assignee: null }, "The case is unassigned."));
  clickable("add-note", async () => {
    await caseStep("comments", { body: byId("note-body").value }, "The note is added.");
    byId("note-body").value = "";
  });
  clickable("decide", () =>
    caseStep(
      "decision",
      { decision: byId("decision").value, reason: byId("decision-reason").value.trim() },
      "The decision is recorded.",
    ),
  );
  clickable("restrict-account", restrictAccount);
  clickable("make-referral", makeReferral);
  await loadCases();
  const wanted = new URLSearchParams(window.location.search).get("case");
  if (wanted && /^[0-9a-f-]{36}$/.test(wanted)) await openCase(wanted);
}

// ---------------------------------------------------------------- start

const PAGES = { "staff-alerts": initAlerts, "staff-cases": initCases };

async function start() {
  const init = PAGES[document.body.dataset.page];
  if (!init) return;
  try {
    await init();
  } catch (error) {
    complain(error instanceof ApiError && error.status === 403 ? "This console is for compliance staff." : describe(error));
  }
  document.body.dataset.ready = "true";
}

start();
