// Behaviour of the market pages: quotes refreshed every second, positions at market.
// Text from the server is only ever placed with textContent, never parsed as HTML.
import { byId, complain, describe, make, signedInCall } from "/static/web/auth.js";

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
    symbolCell(quote.symbol),
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

const PAGES = {
  quotes: () => every(QUOTES_EVERY_MS, refreshQuotes),
  positions: () => every(POSITIONS_EVERY_MS, refreshPositions),
};

async function start() {
  const init = PAGES[document.body.dataset.page];
  if (!init) return;
  await init();
  document.body.dataset.ready = "true";
}

start();
