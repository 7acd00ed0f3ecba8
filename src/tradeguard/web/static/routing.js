// Behaviour of the compliance routing page: execution quality per venue, routing decisions.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import { byId, guarded, make, signedInCall } from "/static/web/auth.js";

const ROUTING = "/v1/compliance/routing";

function cell(text, className) {
  return make("td", text === null || text === undefined ? "—" : String(text), className);
}

function row(key, cells) {
  const line = document.createElement("tr");
  line.append(...cells);
  line.dataset.key = key;
  return line;
}

function qualityRow(venue) {
  const header = make("th", venue.venue);
  header.scope = "row";
  return row(venue.venue, [
    header,
    cell(venue.orders, "number"),
    cell(venue.shares_routed, "number"),
    cell(venue.fill_rate_pct, "number"),
    cell(venue.price_improvement_per_share, "number"),
    cell(venue.improved_orders_pct, "number"),
    cell(venue.effective_spread_per_share, "number"),
    cell(venue.realised_spread_per_share, "number"),
    cell(venue.mean_time_to_fill_ms, "number"),
    cell(`$${venue.pfof_received}`, "number"),
    cell(`$${venue.access_fees_paid}`, "number"),
    cell(`$${venue.rebates_received}`, "number"),
  ]);
}

function decisionRow(decision) {
  const filled = decision.fills.reduce((sum, fill) => sum + fill.quantity, 0);
  const nbbo = decision.nbbo_bid ? `${decision.nbbo_bid} × ${decision.nbbo_ask}` : null;
  return row(decision.order_id, [
    cell(decision.order_id.slice(0, 8)),
    cell(decision.symbol),
    cell(decision.side),
    cell(decision.order_kind ? decision.order_kind.replaceAll("_", " ") : null),
    cell(decision.quantity, "number"),
    cell(decision.venue),
    cell(nbbo),
    cell(decision.reasons.join(", ").replaceAll("_", " ")),
    cell(decision.status),
    cell(filled, "number"),
    cell(`$${decision.net_payment}`, "number"),
  ]);
}

async function showQuality() {
  const [year, month] = byId("quality-month").value.split("-");
  const venues = await signedInCall("GET", `${ROUTING}/quality?year=${year}&month=${Number(month)}`);
  byId("quality").replaceChildren(...venues.map(qualityRow));
  byId("quality-empty").hidden = venues.length > 0;
}

async function showDecisions() {
  const query = new URLSearchParams({ limit: "50" });
  const venue = byId("decisions-venue").value.trim().toUpperCase();
  const symbol = byId("decisions-symbol").value.trim().toUpperCase();
  if (venue) query.set("venue", venue);
  if (symbol) query.set("symbol", symbol);
  const decisions = await signedInCall("GET", `${ROUTING}/decisions?${query}`);
  byId("decisions").replaceChildren(...decisions.map(decisionRow));
  byId("decisions-empty").hidden = decisions.length > 0;
}

function onSubmit(id, action) {
  const form = byId(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(form.querySelector("button[type=submit]"), action);
  });
}

async function start() {
  if (document.body.dataset.page !== "routing") return;
  byId("quality-month").value = new Date().toISOString().slice(0, 7);
  onSubmit("quality-form", showQuality);
  onSubmit("decisions-form", showDecisions);
  await guarded(byId("quality-show"), showQuality);
  await guarded(byId("decisions-show"), showDecisions);
  document.body.dataset.ready = "true";
}

start();
