// Behaviour of the funding and withdrawals pages: bank links, micro-deposits, ACH deposits,
// withdrawals (step-up, then the email and SMS codes), cancellation and the money history.
// A bank account number is sent once and never shown back: links show their last four digits.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import {
  ApiError,
  byId,
  button,
  complain,
  describe,
  field,
  formatTime,
  guarded,
  make,
  onSubmit,
  say,
  signedInCall,
  withStepUp,
} from "/static/web/auth.js";

const API = "/v1/payments";
const LINKS = `${API}/bank-links`;
const CANCELLABLE = ["requested", "verified", "in_review", "approved"];

// What to do next after each refusal, shown after the server's explanation.
const NEXT_STEPS = {
  PAYMENT_ROUTING_NUMBER_INVALID: "Check the nine-digit routing number in your bank's app or on a cheque.",
  PAYMENT_ACCOUNT_NUMBER_INVALID: "Enter the account number's 4 to 17 digits, without spaces.",
  PAYMENT_HOLDER_NAME_INVALID: "Enter the name the bank account is held in.",
  PAYMENT_BANK_LINK_LIMIT: "Remove a bank account you no longer use, then link this one.",
  PAYMENT_BANK_LINK_EXISTS: "This account is already linked: use it from the list.",
  PAYMENT_BANK_LINK_NOT_VERIFIED: "Confirm the two small deposits first, or wait for our review.",
  PAYMENT_MICRO_DEPOSITS_WRONG: "Check both amounts on your bank statement and try again.",
  PAYMENT_MICRO_DEPOSITS_EXHAUSTED: "Remove this bank account and link it again for new deposits.",
  PAYMENT_NO_BROKERAGE_ACCOUNT: "Open a brokerage account first (Brokerage account page).",
  PAYMENT_AMOUNT_INVALID: "Enter dollars with at most two decimals, such as 250.00.",
  PAYMENT_STATE_CONFLICT: "The list below shows where it stands now.",
  WITHDRAWAL_LIMIT_DAILY: "Withdraw less now and the rest after 24 hours.",
  WITHDRAWAL_LIMIT_WEEKLY: "Withdraw less now and the rest later this week.",
  WITHDRAWAL_COOLING_PERIOD:
    "For your safety, withdrawals wait after a new account, bank link or security change: try again later.",
  WITHDRAWAL_INSUFFICIENT_FUNDS:
    "Withdraw at most the amount shown as withdrawable; deposits count once settled.",
  WITHDRAWAL_CODES_WRONG: "Check both codes, or press “Send new codes”.",
  WITHDRAWAL_LINK_NOT_OWN_NAME: "Withdraw only to a bank account in your own name.",
  WITHDRAWAL_ACCOUNT_NOT_ACTIVE: "Nothing was sent. Contact support to find out when your account is active again.",
  FRAUD_REVERIFICATION_REQUIRED: "Nothing was sent. We need to confirm your identity again first: contact support.",
  WITHDRAWAL_DECISION_DENIED: "Nothing was sent. Contact support to find out more.",
  WITHDRAWAL_DECISION_UNAVAILABLE: "Nothing was sent. Try again in a few minutes.",
  AUTH_CODE_SEND_LIMITED: "Codes are sent only so often: wait a minute, then try again.",
  NOT_FOUND: "Reload the page: it may have been removed.",
};
// A request without an SMS number is refused with the codes' reason: say what helps there.
const ON_REQUEST = {
  WITHDRAWAL_CODES_WRONG: "Add a phone number for text-message codes on the Security page first.",
};

const ACCOUNT_TYPES = { checking: "Checking", savings: "Savings" };
const LINK_STATES = {
  pending: "waiting for you to confirm the two small deposits",
  verified: "verified",
  review: "held while we check the holder name",
  failed: "not verified: too many wrong amounts",
  rejected: "not linked: not in your legal name",
};
const WITHDRAWAL_STATES = {
  requested: "requested: waiting for your two codes",
  verified: "confirmed",
  in_review: "in review",
  approved: "approved",
  sent: "sent to your bank",
  settled: "settled",
  rejected: "rejected on review",
  cancelled: "cancelled",
  returned: "returned by your bank",
};

const state = { links: [], pending: null };

// Runs ``action``; a refusal is reported with what to do next.
async function advised(action, overrides = {}) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const next = overrides[error.reason] || NEXT_STEPS[error.reason];
    throw new Error(next ? `${describe(error)}. ${next}` : describe(error));
  }
}

// One Idempotency-Key per money-moving call the customer means to make: when no answer came
// back (the connection dropped), pressing the button again sends the same request with the
// same key, so the server runs it once. Any answer, done or refused, ends the key.
const unanswered = new Map();

async function once(method, path, body) {
  const intent = JSON.stringify([method, path, body]);
  const key = unanswered.get(intent) || crypto.randomUUID();
  unanswered.set(intent, key);
  try {
    const answer = await signedInCall(method, path, body, { "Idempotency-Key": key });
    unanswered.delete(intent);
    return answer;
  } catch (error) {
    if (error instanceof ApiError) unanswered.delete(intent);
    throw error;
  }
}

function linkName(link) {
  return `${ACCOUNT_TYPES[link.account_type] || link.account_type} ending ${link.last4}`;
}

function options(select, links) {
  select.replaceChildren(
    ...links.map((link) => {
      const option = make("option", linkName(link));
      option.value = link.id;
      return option;
    }),
  );
}

function amountsIn(data) {
  return [field(data, "first"), field(data, "second")];
}

// ---------------------------------------------------------------- funding

function linkItem(link) {
  const item = make("li", undefined, "item");
  item.dataset.linkId = link.id;
  item.dataset.status = link.status;
  item.append(make("p", linkName(link), "item-title"));
  const facts = [`routing ${link.routing_number}`, LINK_STATES[link.status] || link.status];
  facts.push(`linked ${formatTime(link.created_at)}`);
  item.append(make("p", facts.join(" · "), "item-facts"));
  const remove = button("Remove", () => removeLink(link), "button-danger");
  remove.setAttribute("aria-label", `Remove ${linkName(link)}`);
  item.append(remove);
  return item;
}

async function loadLinks() {
  state.links = await signedInCall("GET", LINKS);
  const verified = state.links.filter((link) => link.status === "verified");
  const pending = state.links.filter((link) => link.status === "pending");
  const list = byId("links");
  if (list) list.replaceChildren(...state.links.map(linkItem));
  if (byId("no-links")) byId("no-links").hidden = state.links.length > 0;
  if (byId("verify-form")) {
    byId("verify-form").hidden = pending.length === 0;
    options(byId("verify-link"), pending);
  }
  for (const id of ["ach-link", "withdraw-link"]) if (byId(id)) options(byId(id), verified);
}

async function removeLink(link) {
  await advised(() => signedInCall("DELETE", `${LINKS}/${link.id}`));
  await loadLinks();
  say(`${linkName(link)} was removed.`);
}

async function addLink(data, form) {
  const body = {
    holder_name: field(data, "holder_name"),
    routing_number: field(data, "routing_number"),
    account_number: field(data, "account_number").replace(/[\s-]/g, ""),
    account_type: field(data, "account_type"),
  };
  byId("link-account").value = ""; // the number is sent once and not kept on the page
  const link = await advised(() => signedInCall("POST", LINKS, body));
  form.reset();
  await loadLinks();
  say(`${linkName(link)} is linked. Two small deposits are on their way: confirm their amounts below.`);
}

async function verifyLink(data, form) {
  const path = `${LINKS}/${field(data, "link")}/verify`;
  const link = await advised(() => signedInCall("POST", path, { amounts: amountsIn(data) }));
  form.reset();
  await loadLinks();
  say(
    link.status === "verified"
      ? `${linkName(link)} is verified: you can deposit and withdraw with it.`
      : `${linkName(link)} is held while we check that it is in your name; we will email you.`,
  );
}

async function depositByAch(data, form) {
  const linkId = field(data, "link");
  if (!linkId) throw new Error("Link and verify a bank account first.");
  const body = { bank_link_id: linkId, amount: field(data, "amount") };
  const deposit = await advised(() => once("POST", `${API}/deposits`, body));
  form.reset();
  say(`Deposit of ${deposit.amount} requested: you can trade with it now and withdraw it once it settles.`);
}

async function initFunding() {
  onSubmit(byId("link-form"), addLink);
  onSubmit(byId("verify-form"), verifyLink);
  onSubmit(byId("ach-form"), depositByAch);
  await loadLinks();
}

// ---------------------------------------------------------------- withdrawals

function reviewsText(withdrawal) {
  if (withdrawal.status !== "in_review") return "";
  return ` (${withdrawal.reviews_done} of ${withdrawal.reviews_needed} reviews)`;
}

function withdrawalItem(withdrawal) {
  const item = make("li", undefined, "item");
  item.dataset.withdrawalId = withdrawal.id;
  item.dataset.status = withdrawal.status;
  const link = state.links.find((each) => each.id === withdrawal.bank_link_id);
  const to = link ? linkName(link) : "a removed bank account";
  item.append(make("p", `${withdrawal.amount} to ${to}`, "item-title"));
  const status = WITHDRAWAL_STATES[withdrawal.status] || withdrawal.status;
  const facts = `${status}${reviewsText(withdrawal)} · requested ${formatTime(withdrawal.created_at)}`;
  item.append(make("p", facts, "item-facts"));
  if (withdrawal.status === "requested") {
    item.append(button("Enter codes", () => askForCodes(withdrawal)));
  }
  if (CANCELLABLE.includes(withdrawal.status)) {
    const cancel = button("Cancel", () => cancelWithdrawal(withdrawal), "button-danger");
    cancel.setAttribute("aria-label", `Cancel the withdrawal of ${withdrawal.amount}`);
    item.append(cancel);
  }
  return item;
}

function historyRow(entry) {
  const row = make("tr");
  row.dataset.status = entry.status;
  const amount = make("td", entry.amount, "number");
  row.append(make("td", formatTime(entry.created_at)), make("td", entry.what), amount);
  row.append(make("td", entry.status.replaceAll("_", " ")));
  return row;
}

function history(deposits, withdrawals) {
  const entries = [
    ...deposits.map((d) => ({ ...d, what: `Deposit (${d.method.toUpperCase()})` })),
    ...withdrawals.map((w) => ({ ...w, what: "Withdrawal" })),
  ];
  return entries.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

async function loadWithdrawals() {
  const [withdrawals, deposits, withdrawable] = await Promise.all([
    signedInCall("GET", `${API}/withdrawals`),
    signedInCall("GET", `${API}/deposits`),
    signedInCall("GET", `${API}/withdrawable`),
  ]);
  byId("withdrawable").textContent = withdrawable.withdrawable;
  byId("withdrawals").replaceChildren(...withdrawals.map(withdrawalItem));
  byId("no-withdrawals").hidden = withdrawals.length > 0;
  byId("history").tBodies[0].replaceChildren(...history(deposits, withdrawals).map(historyRow));
}

async function refresh() {
  await loadLinks();
  await loadWithdrawals();
}

function askForCodes(withdrawal) {
  state.pending = withdrawal;
  const form = byId("confirm-form");
  form.reset();
  form.hidden = false;
  byId("confirm-what").textContent =
    `We sent a code to your email address and another by text message for the withdrawal of ${withdrawal.amount}.`;
  byId("confirm-heading").focus();
}

async function requestWithdrawal(data) {
  const linkId = field(data, "link");
  if (!linkId) throw new Error("Link and verify a bank account first (Funding page).");
  const body = { bank_link_id: linkId, amount: field(data, "amount") };
  const ask = () => once("POST", `${API}/withdrawals`, body);
  const withdrawal = await advised(() => withStepUp(ask), ON_REQUEST);
  await refresh();
  askForCodes(withdrawal);
  say("Enter the code from the email and the code from the text message to confirm.");
}

async function confirmWithdrawal(data, form) {
  const path = `${API}/withdrawals/${state.pending.id}/confirm`;
  const body = { email_code: field(data, "email_code"), sms_code: field(data, "sms_code") };
  const done = await advised(() => once("POST", path, body));
  form.hidden = true;
  state.pending = null;
  await refresh();
  say(`The withdrawal of ${done.amount} is ${WITHDRAWAL_STATES[done.status] || done.status}.`);
}

async function resendCodes() {
  const path = `${API}/withdrawals/${state.pending.id}/codes`;
  await advised(() => signedInCall("POST", path));
  say("New codes are on their way; the earlier ones no longer work.");
}

async function cancelWithdrawal(withdrawal) {
  const path = `${API}/withdrawals/${withdrawal.id}/cancel`;
  try {
    await advised(() => once("POST", path));
  } finally {
    await refresh();
  }
  if (state.pending && state.pending.id === withdrawal.id) byId("confirm-form").hidden = true;
  say(`The withdrawal of ${withdrawal.amount} is cancelled; the cash is back in your account.`);
}

async function initWithdrawals() {
  onSubmit(byId("withdraw-form"), requestWithdrawal);
  onSubmit(byId("confirm-form"), confirmWithdrawal);
  const resend = byId("resend-codes");
  resend.addEventListener("click", () => guarded(resend, resendCodes));
  await refresh();
}

// ---------------------------------------------------------------- start

const PAGES = { funding: initFunding, withdrawals: initWithdrawals };

async function start() {
  const init = PAGES[document.body.dataset.page];
  if (!init) return;
  try {
    await init();
  } catch (error) {
    complain(describe(error));
  }
  document.body.dataset.ready = "true";
}

start();
