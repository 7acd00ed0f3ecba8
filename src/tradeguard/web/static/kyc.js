// Behaviour of the onboarding pages: the applicant's form and documents, the review queue.
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

const APPLICATION = "/v1/kyc/application";
const QUEUE = "/v1/staff/kyc/applications";
const SECTIONS = ["legal_name", "employment", "affiliations"];

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function fill(list, lines) {
  list.replaceChildren(...lines.map((line) => make("li", line)));
}

// ---------------------------------------------------------------- the applicant

function formAnswers(form) {
  const answers = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.name === "agreement") continue;
    const value = input.type === "checkbox" ? input.checked : input.value.trim();
    if (value === "") continue;
    const [section, part] = input.name.split(".");
    if (part) {
      answers[section] = answers[section] || {};
      answers[section][part] = value;
    } else {
      answers[section] = value;
    }
  }
  if (String(answers.tax_id || "").startsWith("***")) delete answers.tax_id;
  const accepted = [...form.querySelectorAll("input[name=agreement]:checked")];
  answers.agreements = accepted.map((box) => ({ name: box.value, version: box.dataset.version }));
  return answers;
}

function showAnswers(form, application) {
  const answers = application.answers;
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    const [section, part] = input.name.split(".");
    let value = part ? (answers[section] || {})[part] : answers[section];
    if (section === "residential_address" && value) value = value.line;
    if (section === "tax_id") value = application.tax_id;
    if (section === "account_kind") value = application.account_kind;
    if (input.type === "checkbox" && input.name !== "agreement") input.checked = Boolean(value);
    else if (value !== undefined && value !== null && input.type !== "checkbox") input.value = value;
  }
  const accepted = new Set(application.agreements.map((item) => item.name));
  for (const box of form.querySelectorAll("input[name=agreement]")) box.checked = accepted.has(box.value);
}

function showStanding(application) {
  byId("application-status").textContent = application.status.replaceAll("_", " ");
  byId("application-account").textContent = application.account_id || "none yet";
  const asked = byId("information-requested");
  asked.textContent = application.information_requested
    ? `We need more information: ${application.information_requested}`
    : "";
  asked.hidden = !application.information_requested;
  fill(byId("missing"), application.missing);
  byId("missing-block").hidden = application.missing.length === 0;
  fill(
    byId("document-list"),
    application.documents.map((doc) => `${doc.kind.replaceAll("_", " ")} (${doc.side}): ${mrzText(doc.mrz)}`),
  );
}

function mrzText(result) {
  if (!result || !result.check_digits) return "stored";
  const matches = result.surname_matches && result.given_names_match && result.birth_date_matches;
  return `MRZ check digits ${result.check_digits}${matches ? ", matches your answers" : ", does not match your answers"}`;
}

function showFieldErrors(error) {
  const list = byId("field-errors");
  const errors = (error instanceof ApiError && error.problem.errors) || [];
  const missing = (error instanceof ApiError && error.problem.missing) || [];
  const lines = errors.map((item) => `${item.location.slice(1).join(".")}: ${item.message} (${item.reason_code || item.type})`);
  fill(list, [...lines, ...missing.map((name) => `${name}: missing`)]);
  list.hidden = lines.length + missing.length === 0;
}

async function reportingFields(action) {
  showFieldErrors(null);
  try {
    return await action();
  } catch (error) {
    showFieldErrors(error);
    throw error;
  }
}

async function loadApplication(form) {
  try {
    const application = await signedInCall("GET", APPLICATION);
    showAnswers(form, application);
    showStanding(application);
    return application;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

async function sendFile(kind, file) {
  const tokens = loadTokens();
  const response = await fetch(`${APPLICATION}/documents?kind=${kind}&side=front`, {
    method: "POST",
    headers: { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/octet-stream" },
    body: file,
    credentials: "omit",
    cache: "no-store",
  });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function uploadPassport(form) {
  const file = byId("passport-file").files[0];
  if (!file) throw new Error("Choose the passport image first.");
  await reportingFields(() => signedInCall("PUT", APPLICATION, formAnswers(form)));
  const document = await reportingFields(() => sendFile("passport", file));
  const mrz = byId("passport-mrz").value.trim();
  if (mrz) {
    await reportingFields(() => signedInCall("PUT", `${APPLICATION}/documents/${document.id}/mrz`, { mrz }));
  }
  await loadApplication(form);
  say("Your passport is stored and its MRZ checked.");
}

async function uploadProof(form) {
  const file = byId("proof-file").files[0];
  if (!file) throw new Error("Choose the proof of address first.");
  await reportingFields(() => sendFile("proof_of_address", file));
  await loadApplication(form);
  say("Your proof of address is stored.");
}

async function initOnboarding() {
  const form = byId("application-form");
  await loadApplication(form);
  clickable("save-draft", async () => {
    const saved = await reportingFields(() => signedInCall("PUT", APPLICATION, formAnswers(form)));
    showAnswers(form, saved);
    showStanding(saved);
    say("Your draft is saved.");
  });
  clickable("upload-passport", () => uploadPassport(form));
  clickable("upload-proof", () => uploadProof(form));
  clickable("submit-application", async () => {
    await reportingFields(() => signedInCall("PUT", APPLICATION, formAnswers(form)));
    const submitted = await reportingFields(() => signedInCall("POST", `${APPLICATION}/submit`));
    showStanding(submitted);
    say(`Your application is submitted: ${submitted.status.replaceAll("_", " ")}.`);
  });
}

// ---------------------------------------------------------------- reviewers

let current = null;

async function loadQueue() {
  const items = await signedInCall("GET", QUEUE);
  byId("queue-empty").hidden = items.length > 0;
  byId("queue").replaceChildren(
    ...items.map((item) => {
      const row = make("li");
      const label = `${item.applicant} · ${item.status.replaceAll("_", " ")} · risk ${item.risk_level}`;
      row.append(button(`Open ${item.applicant}`, () => openApplication(item.id)), make("span", ` ${label}`));
      return row;
    }),
  );
}

async function documentImage(applicationId, doc) {
  const tokens = loadTokens();
  const response = await fetch(`${QUEUE}/${applicationId}/documents/${doc.id}`, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
    credentials: "omit",
    cache: "no-store",
  });
  const blob = await response.blob();
  const reader = new FileReader();
  const loaded = new Promise((resolve) => reader.addEventListener("load", () => resolve(reader.result)));
  reader.readAsDataURL(blob);
  return loaded;
}

async function showDocuments(view) {
  const items = await Promise.all(
    view.documents.map(async (doc) => {
      const row = make("li", `${doc.kind.replaceAll("_", " ")} (${doc.side}, ${doc.media_type}) — ${mrzText(doc.mrz)}`);
      if (doc.mrz_text) row.append(make("pre", doc.mrz_text));
      if (doc.media_type.startsWith("image/")) {
        const image = make("img");
        image.alt = `${doc.kind} image`;
        image.width = 240;
        image.src = await documentImage(view.id, doc);
        row.append(image);
      }
      return row;
    }),
  );
  byId("review-documents").replaceChildren(...items);
}

function showScreening(screening) {
  const found = screening.decision;
  byId("review-screening").textContent = found
    ? `${found.match ? "Potential match" : "No match"}: ${found.matched_name || "—"} (score ${found.score})${screening.clear ? ", cleared" : ""}`
    : `Not screened: ${screening.status || "unknown"}`;
  fill(byId("review-screening-reasons"), found ? found.reasons : []);
}

async function openApplication(id) {
  const view = await signedInCall("GET", `${QUEUE}/${id}`);
  current = view;
  const name = view.answers.legal_name || {};
  byId("review-applicant").textContent = [name.given, name.middle, name.family].filter(Boolean).join(" ");
  byId("review-status").textContent = view.status.replaceAll("_", " ");
  byId("review-risk").textContent = view.risk_level || "not rated";
  byId("review-tax-id").textContent = view.tax_id || "—";
  byId("review-account").textContent = view.account_id || "none";
  fill(byId("review-checks"), view.checks.map((c) => `${c.check}: ${c.passed ? "passed" : `failed (${c.reason_code})`}`));
  fill(byId("review-risk-factors"), view.risk_factors.map((f) => `${f.factor} (+${f.points})`));
  showScreening(view.screening);
  byId("review-answers").textContent = JSON.stringify(view.answers, null, 2);
  byId("review").hidden = false;
  await showDocuments(view);
  byId("review-heading").focus();
}

async function decide(action, extra) {
  if (!current) return;
  const body = { version: current.version, note: byId("review-note").value.trim(), ...extra };
  const decided = await signedInCall("POST", `${QUEUE}/${current.id}/${action}`, body);
  say(`The application is now ${decided.status.replaceAll("_", " ")}.`);
  await loadQueue();
  await openApplication(decided.id);
}

async function initReview() {
  await loadQueue();
  clickable("review-approve", () => decide("approve", {}));
  clickable("review-request", () => decide("request-information", {}));
  clickable("review-clear", () => decide("clear-screening", {}));
  clickable("review-reject", () => decide("reject", { reason_code: byId("review-reason").value }));
}

// ---------------------------------------------------------------- start

const PAGES = { onboarding: initOnboarding, "staff-kyc": initReview };

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
