// Behaviour of the market pages: quotes refreshed every second, positions at market.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import { byId, complain, describe, guarded, make, signedInCall } from "/static/web/auth.js";

const QUOTES = "/v1/market/quotes";
const QUOTES_EVERY_MS = 1000;
const POSITIONS_EVERY_MS = 2000;

function cell(text, className) {
  return make("td", text === null || text === undefined ? "—" : String(text), className);
}

function row(cells) {
  const line = document.createElement("tr");
  line.append(...cells);
  return line;
}

function symbolCell(symbol) {
  const header = make("th", symbol);
  header.scope = "row";
  return header;
}

// The quote's symbol as a button that puts it on the order ticket at the price to trade at.
function ticketCell(quote) {
  const header = symbolCell("");
  const choose = make("button", quote.symbol, "button-quiet");
  choose.type = "button";
  choose.addEventListener("click", () => {
    byId("ticket-symbol").value = quote.symbol;
    const buying = byId("ticket-side").value === "buy";
    byId("ticket-limit").value = (buying ? quote.ask : quote.bid) || "";
    byId("ticket-quantity").focus();
  });
  header.append(choose);
  return header;
}

function quoteState(quote) {
  if (quote.halted) return ["halted", "state-halted"];
  if (!quote.bid) return ["no quote yet", "state-stale"];
  return quote.fresh ? ["trading", ""] : ["stale", "state-stale"];
}

function quoteRow(quote) {
  const [state, stateClass] = quoteState(quote);
  const band = quote.band_low ? `${quote.band_low} – ${quote.band_high}` : "none";
  const venues = quote.bid_venues.length
    ? `${quote.bid_venues.join(", ")} / ${quote.ask_venues.join(", ")}`
    : null;
  const line = row([
    ticketCell(quote),
    cell(quote.bid, "number"),
    cell(quote.bid_size, "number"),
    cell(quote.ask, "number"),
    cell(quote.ask_size, "number"),
    cell(venues),
    cell(quote.reference_price, "number"),
    cell(band),
    cell(state, stateClass),
  ]);
  line.dataset.symbol = quote.symbol;
  return line;
}

// Polls on, reporting a failure once and clearing it when a later call succeeds.
function every(ms, refresh) {
  let failing = false;
  const tick = async () => {
    try {
      await refresh();
      if (failing) complain("");
      failing = false;
    } catch (error) {
      if (!failing) complain(describe(error));
      failing = true;
    }
    window.setTimeout(tick, ms);
  };
  return tick();
}

async function refreshQuotes() {
  const quotes = await signedInCall("GET", QUOTES);
  byId("quotes").replaceChildren(...quotes.map(quoteRow));
  byId("quotes-updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

function money(value) {
  return value === null || value === undefined ? "no price" : `$${value}`;
}

function positionRow(position) {
  const line = row([
    symbolCell(position.symbol),
    cell(position.quantity, "number"),
    cell(position.cost, "number"),
    cell(position.market_price, "number"),
    cell(position.market_value, "number"),
    cell(position.unrealized_pnl, "number"),
  ]);
  line.dataset.symbol = position.symbol;
  return line;
}

async function refreshPositions() {
  const [account, positions] = await Promise.all([
    signedInCall("GET", "/v1/account"),
    signedInCall("GET", "/v1/positions"),
  ]);
  byId("equity-at-market").textContent = money(account.equity_at_market);
  byId("cash").textContent = money(account.cash);
  byId("market-value").textContent = money(account.market_value);
  byId("unrealized-pnl").textContent = money(account.unrealized_pnl);
  byId("equity").textContent = money(account.equity);
  byId("positions").replaceChildren(...positions.map(positionRow));
  byId("positions-empty").hidden = positions.length > 0;
}

function ticketOrder() {
  const type = byId("ticket-type").value;
  const order = {
    client_order_id: `web-${crypto.randomUUID()}`,
    symbol: byId("ticket-symbol").value.trim().toUpperCase(),
    side: byId("ticket-side").value,
    type,
    quantity: Number(byId("ticket-quantity").value),
  };
  if (type === "limit") order.limit_price = byId("ticket-limit").value.trim();
  return order;
}

function placed(order) {
  const filled = order.filled_quantity ? `, ${order.filled_quantity} filled` : "";
  const average = order.average_price ? ` at ${order.average_price}` : "";
  return `Order ${order.symbol} ${order.side} ${order.quantity}: ${order.status}${filled}${average}`;
}

async function placeFromTicket() {
  const result = byId("ticket-result");
  result.hidden = true;
  const order = await signedInCall("POST", "/v1/orders", ticketOrder());
  result.textContent = placed(order);
  result.hidden = false;
}

function startTicket() {
  const form = byId("ticket");
  const limit = byId("ticket-limit");
  byId("ticket-type").addEventListener("change", (event) => {
    limit.disabled = event.target.value === "market";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(byId("ticket-place"), placeFromTicket);
  });
}

const PAGES = {
  quotes: () => {
    startTicket();
    return every(QUOTES_EVERY_MS, refreshQuotes);
  },
  positions: () => every(POSITIONS_EVERY_MS, refreshPositions),
};

async function start() {
  const init = PAGES[document.body.dataset.page];
  if (!init) return;
  await init();
  document.body.dataset.ready = "true";
}

start();
