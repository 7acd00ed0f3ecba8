// Behaviour of the AML pages: SARs (draft, review, generate, download, file), CTRs, parameters.
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

const AML = "/v1/compliance/aml";
const DAY_MS = 86_400_000;

function onSubmit(id, action) {
  const form = byId(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(form.querySelector("button[type=submit]"), action);
  });
}

function clickable(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

function today() {
  return new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
}

function fieldErrors(error) {
  if (!(error instanceof ApiError)) return [];
  const problem = error.problem;
  const invalid = (problem.errors || []).map((item) => ({
    field: (item.location || []).slice(-1)[0] || "",
    message: item.message,
  }));
  return [...(problem.fields || []), ...invalid];
}

function showList(list, problems) {
  list.replaceChildren(...problems.map((p) => make("li", `${p.field}: ${p.message}`)));
  list.hidden = problems.length === 0;
}

// Fetches a file with the session's token and hands it to the browser as a download.
async function download(path, name) {
  const tokens = loadTokens();
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) throw new ApiError(response.status, await response.json());
  const link = make("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// Exports the reports of one kind that are ready to file as one batch, then downloads it.
async function exportBatch(kind, summaryId) {
  const batch = await signedInCall("POST", `${AML}/${kind}/batch`);
  const totals = Object.entries(batch.totals).map(([name, value]) => `${name} ${value}`).join(", ");
  const summary = byId(summaryId);
  summary.textContent = `${batch.file}: ${batch.reports.length} reports; ${totals}; SHA-256 ${batch.sha256}`;
  summary.hidden = false;
  await download(`${AML}/${kind}/batches/${batch.file}`, batch.file);
  say(`The batch ${batch.file} is exported; upload it, then record each BSA ID.`);
}

// ---------------------------------------------------------------- SARs

let currentSar = null;

function clockText(sar) {
  if (sar.filing_state === "filed") return `Filed on ${sar.filed_on} (deadline was ${sar.deadline})`;
  if (sar.filing_state === "overdue") return `OVERDUE by ${-sar.days_left} days: the deadline was ${sar.deadline}`;
  const soon = sar.filing_state === "remind" ? " — file soon" : "";
  return `Due ${sar.deadline}, ${sar.days_left} days left${soon}`;
}

function sarLine(sar) {
  const row = make("li", undefined, sar.filing_state === "overdue" ? "overdue" : "");
  const what = `${sar.typologies.join(", ") || "no typology"} · ${sar.customer || "unknown customer"}`;
  row.append(
    button(`Open SAR ${sar.id.slice(0, 8)}`, () => openSar(sar.id)),
    make("span", ` ${clockText(sar)} · ${sar.status} · ${what}`),
  );
  return row;
}

async function loadSars() {
  const sars = await signedInCall("GET", `${AML}/sars`);
  byId("sars-empty").hidden = sars.length > 0;
  byId("sars").replaceChildren(...sars.map(sarLine));
  const overdue = sars.filter((sar) => sar.filing_state === "overdue").length;
  const remind = sars.filter((sar) => sar.filing_state === "remind").length;
  const warning = byId("overdue");
  const parts = [];
  if (overdue) parts.push(`${overdue} SAR${overdue > 1 ? "s are" : " is"} overdue: file now and record why it was late`);
  if (remind) parts.push(`${remind} due within 10 days`);
  warning.textContent = parts.join("; ");
  warning.hidden = parts.length === 0;
}

function showProblems(problems) {
  for (const node of document.querySelectorAll("#sar-form .field-error")) {
    node.textContent = "";
    node.hidden = true;
  }
  for (const problem of problems) {
    const node = byId(`problem-${problem.field}`);
    if (!node) continue;
    node.textContent = node.textContent ? `${node.textContent} ${problem.message}` : problem.message;
    node.hidden = false;
  }
}

function showSar(sar) {
  currentSar = sar;
  byId("sar-heading").textContent = `SAR ${sar.id}`;
  const clock = byId("sar-clock");
  clock.textContent = clockText(sar);
  clock.className = sar.filing_state;
  byId("sar-status").textContent = sar.status;
  const caseLink = byId("sar-case");
  caseLink.textContent = sar.case_id;
  caseLink.href = `/staff/cases?case=${encodeURIComponent(sar.case_id)}`;
  byId("sar-customer").textContent = sar.customer || "—";
  byId("sar-accounts").textContent = sar.accounts.join(", ") || "—";
  byId("sar-typologies").textContent = sar.typologies.join(", ") || "—";
  byId("sar-activity").textContent = `${sar.activity_from} to ${sar.activity_to}`;
  byId("sar-detected").textContent = sar.detected_on;
  byId("sar-sha256").textContent = sar.xml_sha256 || "not generated";
  byId("sar-bsa-id").textContent = sar.bsa_id || "not filed";
  byId("sar-review-due").textContent = sar.continuing_review_due || "—";
  byId("sar-retain").textContent = sar.retain_until || "—";
  byId("sar-name").value = sar.subject_name;
  byId("sar-dob").value = sar.subject_dob;
  byId("sar-occupation").value = sar.subject_occupation;
  byId("sar-amount").value = sar.amount;
  byId("sar-narrative").value = sar.narrative;
  countNarrative();
  showProblems(sar.problems);
  const filed = sar.status === "filed";
  byId("sar-save").disabled = filed;
  byId("sar-generate").disabled = filed || sar.problems.length > 0;
  byId("sar-download").disabled = sar.status === "draft";
  byId("filing-form").hidden = sar.status !== "generated";
  byId("sar").hidden = false;
}

function countNarrative() {
  const length = byId("sar-narrative").value.trim().length;
  byId("narrative-count").textContent = `${length} characters (at least 200)`;
}

async function openSar(id) {
  showSar(await signedInCall("GET", `${AML}/sars/${id}`));
  byId("sar-heading").focus();
}

function sarEdits() {
  return {
    subject_name: byId("sar-name").value.trim(),
    subject_dob: byId("sar-dob").value,
    subject_occupation: byId("sar-occupation").value.trim(),
    narrative: byId("sar-narrative").value,
    amount: byId("sar-amount").value.trim() || "0",
  };
}

async function withProblems(action) {
  try {
    return await action();
  } catch (error) {
    const problems = fieldErrors(error);
    if (problems.length) showProblems(problems);
    throw error;
  }
}

async function saveSar() {
  const saved = await withProblems(() => signedInCall("PUT", `${AML}/sars/${currentSar.id}`, sarEdits()));
  showSar(saved);
  await loadSars();
  say(saved.problems.length ? "Saved; the SAR still lacks what is shown in place." : "Saved: the SAR is ready to approve.");
}

async function generateSar() {
  const generated = await withProblems(() => signedInCall("POST", `${AML}/sars/${currentSar.id}/xml`));
  showSar(generated);
  await loadSars();
  say("The SAR is approved and its FinCEN XML generated; download it to file.");
}

async function recordSarFiling() {
  const body = { bsa_id: byId("filing-bsa-id").value.trim(), filed_on: byId("filing-date").value };
  const filed = await signedInCall("POST", `${AML}/sars/${currentSar.id}/filing`, body);
  showSar(filed);
  await loadSars();
  say(`The filing is recorded (BSA ID ${filed.bsa_id}).`);
}

async function draftSar() {
  const caseId = byId("draft-case").value.trim();
  const body = {
    detected_on: byId("draft-detected").value,
    suspect_identified: byId("draft-suspect").checked,
    subject_name: byId("draft-name").value.trim(),
    subject_dob: byId("draft-dob").value,
    subject_occupation: byId("draft-occupation").value.trim(),
    amount: byId("draft-amount").value.trim() || "0",
    narrative: byId("draft-narrative").value,
  };
  showList(byId("draft-errors"), []);
  let drafted;
  try {
    drafted = await signedInCall("POST", `${AML}/cases/${encodeURIComponent(caseId)}/sar`, body);
  } catch (error) {
    showList(byId("draft-errors"), fieldErrors(error));
    throw error;
  }
  await loadSars();
  showSar(drafted);
  byId("sar-heading").focus();
  say(`The SAR is drafted; file it by ${drafted.deadline}.`);
}

async function initSars() {
  const wanted = new URLSearchParams(window.location.search);
  byId("draft-case").value = wanted.get("case") || "";
  byId("draft-detected").value = today();
  byId("filing-date").value = today();
  byId("sar-narrative").addEventListener("input", countNarrative);
  onSubmit("draft-form", draftSar);
  onSubmit("sar-form", saveSar);
  clickable("sar-generate", generateSar);
  clickable("sar-download", () => download(`${AML}/sars/${currentSar.id}/xml`, `sar-${currentSar.id}.xml`));
  onSubmit("filing-form", recordSarFiling);
  clickable("sar-batch", () => exportBatch("sars", "sar-batch-summary"));
  await loadSars();
  if (wanted.get("sar")) await openSar(wanted.get("sar"));
}

// ---------------------------------------------------------------- CTRs

let currentCtr = null;

function ctrLine(ctr) {
  const late = ctr.status !== "filed" && Date.parse(ctr.due) + DAY_MS < Date.now();
  const amounts = [ctr.cash_in && `cash in $${ctr.cash_in}`, ctr.cash_out && `cash out $${ctr.cash_out}`];
  const state = ctr.status === "filed" ? `filed ${ctr.filed_on}, BSA ID ${ctr.bsa_id}` : `due ${ctr.due}${late ? " — OVERDUE" : ""}`;
  const row = make("li", undefined, late ? "overdue" : "");
  row.append(
    make("span", `${ctr.date} · ${ctr.customer} · ${amounts.filter(Boolean).join(", ")} · ${state} · kept until ${ctr.retain_until} `),
    button(`Download ${ctr.file}`, () => download(`${AML}/ctrs/${ctr.id}/xml`, ctr.file)),
  );
  if (ctr.status !== "filed") {
    row.append(button(`Record filing of ${ctr.file}`, () => chooseCtr(ctr)));
  }
  return row;
}

function chooseCtr(ctr) {
  currentCtr = ctr;
  byId("ctr-filing-heading").textContent = `Record the filing of ${ctr.file}`;
  byId("ctr-filing-form").hidden = false;
  byId("ctr-filing-heading").focus();
}

async function showCtrs(day) {
  const query = day ? `?date=${encodeURIComponent(day)}` : "";
  const ctrs = await signedInCall("GET", `${AML}/ctrs${query}`);
  byId("ctrs-empty").hidden = ctrs.length > 0;
  byId("ctrs").replaceChildren(...ctrs.map(ctrLine));
}

async function generateCtrs() {
  const day = byId("ctr-day").value;
  if (!day) throw new Error("Choose the business day first.");
  const written = await signedInCall("POST", `${AML}/ctrs`, { date: day });
  await showCtrs(day);
  say(`${written.length} CTR${written.length === 1 ? "" : "s"} written for ${day}.`);
}

async function recordCtrFiling() {
  const body = { bsa_id: byId("ctr-bsa-id").value.trim(), filed_on: byId("ctr-filed-on").value };
  const filed = await signedInCall("POST", `${AML}/ctrs/${currentCtr.id}/filing`, body);
  byId("ctr-filing-form").hidden = true;
  await showCtrs(byId("ctr-day").value);
  say(`The filing of ${filed.file} is recorded (BSA ID ${filed.bsa_id}).`);
}

async function initCtrs() {
  byId("ctr-filed-on").value = today();
  onSubmit("ctr-day-form", generateCtrs);
  clickable("ctr-show", () => showCtrs(byId("ctr-day").value));
  clickable("ctr-all", () => showCtrs(""));
  onSubmit("ctr-filing-form", recordCtrFiling);
  clickable("ctr-batch", () => exportBatch("ctrs", "ctr-batch-summary"));
  await showCtrs("");
}

// ---------------------------------------------------------------- parameters

async function loadParameters() {
  const parameters = await signedInCall("GET", `${AML}/parameters`);
  byId("parameters-document").value = JSON.stringify(parameters, null, 2);
  const history = await signedInCall("GET", `${AML}/parameters/history`);
  byId("history-empty").hidden = history.length > 0;
  byId("history").replaceChildren(
    ...history.map((v) => make("li", `${new Date(v.changed_at_ns / 1e6).toISOString()} · ${v.changed_by} · ${v.reason}`)),
  );
}

async function saveParameters() {
  const list = byId("parameters-errors");
  showList(list, []);
  let parameters;
  try {
    parameters = JSON.parse(byId("parameters-document").value);
  } catch {
    throw new Error("The parameters are not valid JSON.");
  }
  const body = { parameters, reason: byId("parameters-reason").value.trim() };
  try {
    await signedInCall("PUT", `${AML}/parameters`, body);
  } catch (error) {
    showList(list, fieldErrors(error));
    throw error;
  }
  byId("parameters-reason").value = "";
  await loadParameters();
  say("The parameters are changed; the live monitors use them from now on.");
}

async function initParameters() {
  onSubmit("parameters-form", saveParameters);
  await loadParameters();
}

// ---------------------------------------------------------------- start

const PAGES = { "aml-sars": initSars, "aml-ctrs": initCtrs, "aml-parameters": initParameters };

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
