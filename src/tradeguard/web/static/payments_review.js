// Behaviour of the staff payments review page: withdrawals held for review and bank links
// whose holder name differs; approve or reject each with a reason. The API enforces who may
// decide (payments:review, never one's own, two different reviewers above the second
// threshold); this page shows where each stands and any refusal with what to do next.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import {
  ApiError,
  byId,
  button,
  complain,
  describe,
  formatTime,
  guarded,
  make,
  say,
  signedInCall,
} from "/static/web/auth.js";

const API = "/v1/payments/review";
const NOT_ALLOWED =
  "This queue is for staff with the payments review permission. Sign in with such a staff account, or ask an administrator for the permission.";
const NEXT_STEPS = {
  WITHDRAWAL_ALREADY_REVIEWED:
    "Your approval is counted; a second, different reviewer must now decide.",
  WITHDRAWAL_SELF_REVIEW: "Ask another reviewer to decide it.",
  PAYMENT_LINK_SELF_APPROVAL: "Ask another reviewer to decide it.",
  NOT_FOUND: "It was decided meanwhile: the queue below is up to date.",
  PAYMENT_STATE_CONFLICT: "It changed meanwhile: the queue below is up to date.",
  WITHDRAWAL_DECISION_DENIED: "The withdrawal was refused by the fraud or AML check; open a case if needed.",
  WITHDRAWAL_DECISION_UNAVAILABLE: "Nothing was approved; try again in a few minutes.",
};
const ACCOUNT_TYPES = { checking: "Checking", savings: "Savings" };

let current = null;

function explain(error) {
  if (error instanceof ApiError && error.status === 403 && error.reason === "ACCESS_DENIED") {
    return NOT_ALLOWED;
  }
  const next = error instanceof ApiError ? NEXT_STEPS[error.reason] : undefined;
  return next ? `${describe(error)}. ${next}` : describe(error);
}

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function reviews(withdrawal) {
  return `${withdrawal.reviews_done} of ${withdrawal.reviews_needed} approvals`;
}

function withdrawalWhat(withdrawal) {
  return `Withdrawal of ${withdrawal.amount}`;
}

function linkWhat(link) {
  return `${ACCOUNT_TYPES[link.account_type] || link.account_type} ending ${link.last4}`;
}

function row(cells, action) {
  const tr = make("tr");
  tr.append(...cells.map((text) => make("td", text)));
  const cell = make("td");
  cell.append(action);
  tr.append(cell);
  return tr;
}

function withdrawalRow(withdrawal) {
  const open = button("Review", () => openDecision("withdrawal", withdrawal));
  open.setAttribute("aria-label", `Review the ${withdrawalWhat(withdrawal).toLowerCase()}`);
  const tr = row([formatTime(withdrawal.created_at), withdrawal.amount, reviews(withdrawal)], open);
  tr.cells[1].className = "number";
  tr.dataset.withdrawalId = withdrawal.id;
  return tr;
}

function linkRow(link) {
  const open = button("Review", () => openDecision("link", link));
  open.setAttribute("aria-label", `Review the bank link ${linkWhat(link)}`);
  const account = `${linkWhat(link)} · routing ${link.routing_number}`;
  const tr = row([formatTime(link.created_at), link.user_id, account], open);
  tr.dataset.linkId = link.id;
  return tr;
}

async function loadQueues() {
  const [withdrawals, links] = await Promise.all([
    signedInCall("GET", API),
    signedInCall("GET", `${API}/bank-links`),
  ]);
  byId("withdrawal-queue").tBodies[0].replaceChildren(...withdrawals.map(withdrawalRow));
  byId("no-withdrawals").hidden = withdrawals.length > 0;
  byId("link-queue").tBodies[0].replaceChildren(...links.map(linkRow));
  byId("no-links").hidden = links.length > 0;
  return { withdrawals, links };
}

function showDecision() {
  const { kind, item } = current;
  const withdrawal = kind === "withdrawal";
  byId("decision-what").textContent = withdrawal ? withdrawalWhat(item) : `Bank link ${linkWhat(item)}`;
  byId("decision-state").textContent = withdrawal
    ? `in review: ${reviews(item)}`
    : "held: the holder name differs from the legal name";
}

function openDecision(kind, item) {
  current = { kind, item };
  showDecision();
  byId("decision-reason").value = "";
  byId("decision").hidden = false;
  byId("decision-heading").focus();
}

function decisionPath() {
  const { kind, item } = current;
  return kind === "withdrawal" ? `${API}/${item.id}` : `${API}/bank-links/${item.id}`;
}

// After a decision (or a refusal) the queues and the open item show the present state; an
// item that has left its queue is closed, so it is not offered for a decision again.
async function reload() {
  const { withdrawals, links } = await loadQueues();
  if (!current) return;
  const queue = current.kind === "withdrawal" ? withdrawals : links;
  const found = queue.find((each) => each.id === current.item.id);
  if (!found) {
    current = null;
    byId("decision").hidden = true;
    return;
  }
  current.item = found;
  showDecision();
}

function outcome(kind, answer) {
  if (kind === "link") return `The bank link is ${answer.status}.`;
  if (answer.status === "in_review") {
    return `Your approval is recorded (${reviews(answer)}); a second reviewer must approve it too.`;
  }
  return `The withdrawal is ${answer.status}.`;
}

async function decide(decision) {
  if (!current) return;
  const reason = byId("decision-reason").value.trim();
  if (reason.length < 3) throw new Error("Write the reason for the decision (at least 3 characters).");
  const kind = current.kind;
  try {
    const answer = await signedInCall("POST", decisionPath(), { decision, reason });
    byId("decision-state").textContent = answer.status.replaceAll("_", " ");
    say(outcome(kind, answer));
  } catch (error) {
    complain(explain(error));
  }
  await reload();
}

async function start() {
  if (document.body.dataset.page !== "staff-payments") return;
  clickable("approve", () => decide("approve"));
  clickable("reject", () => decide("reject"));
  try {
    await loadQueues();
  } catch (error) {
    complain(explain(error));
  }
  document.body.dataset.ready = "true";
}

start();
