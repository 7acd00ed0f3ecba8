// Behaviour of the cards page. The card number is posted to the payment vault's intake
// endpoint with a single-use ticket; this server only ever sees the vault's card id.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import {
  ApiError,
  byId,
  button,
  complain,
  describe,
  guarded,
  loadTokens,
  make,
  say,
  signedInCall,
} from "/static/web/auth.js";

const CARDS = "/v1/cards";

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function label(card) {
  return `${card.brand} ending ${card.last4}, expires ${card.exp_month}/${card.exp_year}`;
}

async function loadCards() {
  const cards = await signedInCall("GET", CARDS);
  byId("no-cards").hidden = cards.length > 0;
  byId("cards").replaceChildren(
    ...cards.map((card) => {
      const item = make("li", label(card));
      item.append(" ", button("Remove", async () => {
        await signedInCall("DELETE", `${CARDS}/${card.id}`);
        await loadCards();
        say("The card was removed.");
      }));
      return item;
    }),
  );
  byId("deposit-card").replaceChildren(
    ...cards.map((card) => {
      const option = make("option", label(card));
      option.value = card.id;
      return option;
    }),
  );
}

async function tokenize(intake, card) {
  const response = await fetch(`${intake.intake_url}/v1/tokenize`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ticket: intake.ticket, ...card }),
    credentials: "omit",
    cache: "no-store",
  });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function addCard() {
  const number = byId("card-number");
  const card = {
    number: number.value.trim(),
    exp_month: Number(byId("card-month").value),
    exp_year: Number(byId("card-year").value),
    cvc: byId("card-cvc").value.trim(),
  };
  const intake = await signedInCall("POST", `${CARDS}/intake`);
  try {
    const tokenized = await tokenize(intake, card);
    await signedInCall("POST", CARDS, { card_id: tokenized.id });
  } finally {
    number.value = "";
    byId("card-cvc").value = "";
  }
  await loadCards();
  say("The card was added.");
}

async function deposit() {
  const cardId = byId("deposit-card").value;
  if (!cardId) throw new Error("Add a card first.");
  const tokens = loadTokens();
  const response = await fetch(`${CARDS}/${cardId}/deposits`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${tokens.access_token}`,
      "Content-Type": "application/json",
      "Idempotency-Key": crypto.randomUUID(),
    },
    body: JSON.stringify({ amount: byId("deposit-amount").value.trim() }),
    credentials: "omit",
    cache: "no-store",
  });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, body);
  say(`Deposited ${body.amount}.`);
}

async function start() {
  clickable("add-card", addCard);
  clickable("deposit", deposit);
  try {
    await loadCards();
  } catch (error) {
    complain(describe(error));
  }
  document.body.dataset.ready = "true";
}

start();
