// Behaviour of the fraud review page: the fraud alerts of the shared queue, one decision's
// score, rules and top features, the customer's decisions, activity and trades, lock,
// recovery, and busting a trade (confirmed in a dialog, with a reason).
// Text from the server is only ever placed with textContent, never parsed as HTML.
import {
  byId,
  button,
  complain,
  describe,
  guarded,
  make,
  onSubmit,
  say,
  signedInCall,
} from "/static/web/auth.js";

const ALERTS = "/v1/compliance/alerts";
const FRAUD = "/v1/fraud/users";

let current = null;
let bustTarget = null;

function fill(list, lines) {
  list.replaceChildren(...lines.map((line) => make("li", line)));
}

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function when(nanoseconds) {
  return new Date(Number(BigInt(nanoseconds) / 1000000n)).toISOString();
}

async function loadQueue() {
  const alerts = (await signedInCall("GET", ALERTS)).filter((alert) => alert.source === "fraud");
  byId("queue-empty").hidden = alerts.length > 0;
  byId("queue").replaceChildren(
    ...alerts.map((alert) => {
      const row = make("li");
      const label = ` ${alert.typology} · score ${alert.score.toFixed(2)} · ${alert.rule} · ${alert.start}`;
      row.append(button(`Open ${alert.customer}`, () => openAlert(alert)), make("span", label));
      return row;
    }),
  );
}

function showDecision(alert) {
  const decision = alert.evidence;
  byId("review-customer").textContent = alert.customer;
  byId("review-action").textContent = decision.action;
  byId("review-outcome").textContent = decision.outcome.replaceAll("_", " ");
  byId("review-score").textContent = decision.score;
  byId("review-model").textContent = decision.model_version;
  const evidence = decision.evidence && decision.evidence.length ? ` (with ${decision.evidence.join(", ")})` : "";
  byId("review-rules").textContent = (decision.rules.join(", ") || "none") + evidence;
  fill(byId("review-reasons"), decision.reasons.map(([name, value]) => `${name}: ${value}`));
}

async function openAlert(alert) {
  current = alert;
  showDecision(alert);
  const decisions = await signedInCall("GET", `${FRAUD}/${alert.customer}/decisions`);
  fill(
    byId("review-decisions"),
    decisions.map((event) => `${when(event.ts_ns)} ${event.data.action}: ${event.data.outcome} (${event.data.score})`),
  );
  const activity = await signedInCall("GET", `${FRAUD}/${alert.customer}/activity`);
  fill(
    byId("review-activity"),
    activity.map((event) => `${when(event.ts_ns)} ${event.type} from ${event.ip || "—"}`),
  );
  await loadTrades();
  byId("review").hidden = false;
  byId("review-heading").focus();
}

function tradeLabel(trade) {
  return `${trade.side} ${trade.quantity} ${trade.symbol} at ${trade.price}`;
}

async function loadTrades() {
  const trades = await signedInCall("GET", `${FRAUD}/${current.customer}/trades`);
  byId("review-trades-empty").hidden = trades.length > 0;
  byId("review-trades").replaceChildren(
    ...trades.map((trade) => {
      const row = make("li", `${when(trade.executed_at_ns)} ${tradeLabel(trade)} `);
      if (trade.busted) {
        row.append(make("strong", "busted"));
      } else {
        row.append(button(`Bust ${tradeLabel(trade)}`, () => askBust(trade), "button-danger"));
      }
      return row;
    }),
  );
}

function askBust(trade) {
  bustTarget = trade;
  byId("bust-trade").textContent = `${tradeLabel(trade)}, executed ${when(trade.executed_at_ns)} (execution ${trade.execution_id}).`;
  byId("bust-reason").value = byId("review-reason").value.trim();
  byId("bust-alert").hidden = true;
  byId("bust").showModal();
}

async function bust() {
  const reason = byId("bust-reason").value.trim();
  if (!reason) {
    byId("bust-alert").textContent = "Say why the trade is busted.";
    byId("bust-alert").hidden = false;
    return;
  }
  const trade = bustTarget;
  const path = `${FRAUD}/${current.customer}/trades/${trade.execution_id}/bust`;
  try {
    const done = await signedInCall("POST", path, { reason });
    byId("bust").close();
    say(
      `The trade is busted: ${done.shares_change} shares and ${done.cash_change} in cash; ` +
        `position now ${done.position_after}.`,
    );
  } catch (error) {
    byId("bust-alert").textContent = describe(error);
    byId("bust-alert").hidden = false;
    return;
  }
  await loadTrades();
}

function initBust() {
  onSubmit(byId("bust-form"), bust);
  byId("bust-cancel").addEventListener("click", () => byId("bust").close());
}

async function act(path, done) {
  if (!current) return;
  const reason = byId("review-reason").value.trim();
  const answer = await signedInCall("POST", `${FRAUD}/${current.customer}/${path}`, { reason });
  say(done(answer));
}

async function initReview() {
  initBust();
  await loadQueue();
  clickable("review-unlock", () => act("unlock", () => "The lock is released."));
  clickable("review-recover", () =>
    act("recover", (answer) => `The account is secured: ${answer.sessions_ended} sessions ended.`),
  );
}

async function start() {
  if (document.body.dataset.page !== "staff-fraud") return;
  try {
    await initReview();
  } catch (error) {
    complain(describe(error));
  }
  document.body.dataset.ready = "true";
}

start();
