// Behaviour of the identity pages: forms, tokens, WebAuthn ceremonies and step-up.
// The pages carry no inline code (strict CSP); each names itself in <body data-page>.
// Text from the server is only ever placed with textContent, never parsed as HTML.

const TOKENS_KEY = "tradeguard.tokens";
const NOTICE_KEY = "tradeguard.notice";
const DEVICE_ID_KEY = "tradeguard.device-id";
const HINT_MAX = 128;
const STRONG_METHODS = ["webauthn", "totp"];
const CODE_METHODS = ["sms", "email"];
const EXPIRED = "AUTH_TOKEN_EXPIRED";
const STEP_UP_REQUIRED = "AUTH_STEP_UP_REQUIRED";
const FRAUD_STEP_UP = "FRAUD_STEP_UP_REQUIRED";
const FRAUD_BLOCKED = "FRAUD_BLOCKED";
// A sensitive route (or the fraud guard) asks for a fresh second factor with one of these.
const STEP_UP_REASONS = [STEP_UP_REQUIRED, "WITHDRAWAL_STEP_UP_REQUIRED", FRAUD_STEP_UP];
const ENROLMENT_REQUIRED = "AUTH_MFA_ENROLLMENT_REQUIRED";
const STEP_UP_ATTEMPTS = 6;
const STEP_UP_RETRY_MS = 400;

// ---------------------------------------------------------------- page helpers

function byId(id) {
  return document.getElementById(id);
}

function showMessage(id, text) {
  const region = byId(id);
  if (!region) return;
  region.textContent = text;
  region.hidden = !text;
}

function say(text) {
  showMessage("alert", "");
  showMessage("status", text);
}

function complain(text) {
  showMessage("status", "");
  showMessage("alert", text);
}

function keepNotice(text) {
  sessionStorage.setItem(NOTICE_KEY, text);
}

function showKeptNotice() {
  const text = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  if (text) say(text);
}

function make(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(text, onClick, className) {
  const node = make("button", text, className);
  node.type = "button";
  node.addEventListener("click", () => guarded(node, onClick));
  return node;
}

// Runs an action for a control, disabling it meanwhile and reporting any failure.
async function guarded(control, action) {
  control.disabled = true;
  try {
    await action();
  } catch (error) {
    complain(describe(error));
  } finally {
    control.disabled = false;
  }
}

function onSubmit(form, handler) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const submit = form.querySelector("[type=submit]") || form;
    guarded(submit, () => handler(new FormData(form), form));
  });
}

function field(data, name) {
  return String(data.get(name) || "").trim();
}

function formatTime(text) {
  if (!text) return "never";
  const moment = new Date(text);
  return Number.isNaN(moment.getTime()) ? text : moment.toLocaleString();
}

function goTo(path) {
  window.location.assign(path);
}

// ---------------------------------------------------------------- tokens

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
  } catch {
    return null;
  }
}

function saveTokens(body) {
  const tokens = {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    session_id: body.session_id,
    enrollment_only: Boolean(body.enrollment_only),
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return tokens;
}

function forgetTokens() {
  sessionStorage.removeItem(TOKENS_KEY);
}

function signedOut(notice) {
  forgetTokens();
  if (notice) keepNotice(notice);
  goTo("/signin");
  return new Promise(() => {}); // the page is going away; nothing after this runs
}

// ---------------------------------------------------------------- JSON API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The request failed (${status}).`);
    this.status = status;
    this.reason = problem.reason_code || "";
    this.problem = problem;
  }
}

function describe(error) {
  if (error instanceof ApiError) return error.message;
  if (error && error.name === "NotAllowedError") {
    return "The passkey or security key request was cancelled or timed out.";
  }
  if (error && error.name === "InvalidStateError") {
    return "This authenticator is already registered to your account.";
  }
  return error && error.message ? error.message : "Something went wrong; please try again.";
}

async function send(method, path, body, accessToken, extraHeaders) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, parsed || {});
  return parsed;
}

// A call that needs no session: sign-up, sign-in, verification, resets, device links.
function publicCall(method, path, body) {
  return send(method, path, body, null);
}

let refreshing = null;

// A refresh token spent twice ends the whole session (it is taken as stolen), so calls
// that fail together share one refresh, and a call that failed with tokens another call
// has since replaced just uses the new ones.
function freshTokens(expired) {
  const current = loadTokens();
  if (current && current.access_token !== expired.access_token) return Promise.resolve(current);
  if (!refreshing) {
    const body = { refresh_token: (current || expired).refresh_token };
    refreshing = send("POST", "/v1/auth/refresh", body)
      .then(saveTokens)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// ``headers`` adds request headers (an Idempotency-Key on money-moving calls).
async function signedInCall(method, path, body, headers) {
  let tokens = loadTokens();
  if (!tokens) return signedOut("Please sign in.");
  try {
    return await send(method, path, body, tokens.access_token, headers);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    if (error.reason !== EXPIRED) return signedOut(error.message);
    tokens = await freshTokens(tokens).catch(() => signedOut("Your session has ended."));
    return sendOrSignOut(method, path, body, tokens.access_token, headers);
  }
}

async function sendOrSignOut(method, path, body, accessToken, headers) {
  try {
    return await send(method, path, body, accessToken, headers);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signedOut(error.message);
    throw error;
  }
}

// ---------------------------------------------------------------- device hints

function deviceId() {
  let id = localStorage.getItem(DEVICE_ID_KEY);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(DEVICE_ID_KEY, id);
  }
  return id;
}

function deviceHints() {
  const agent = navigator.userAgentData;
  const platform = (agent && agent.platform) || navigator.platform;
  const hints = {
    id: deviceId(),
    platform: platform || "unknown",
    time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "unknown",
    screen: `${window.screen.width}x${window.screen.height}`,
    language: navigator.language || "unknown",
  };
  for (const key of Object.keys(hints)) hints[key] = String(hints[key]).slice(0, HINT_MAX);
  return hints;
}

// ---------------------------------------------------------------- WebAuthn encoding

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list || []).map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

function creationOptions(publicKey) {
  return {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    user: { ...publicKey.user, id: fromBase64url(publicKey.user.id) },
    excludeCredentials: descriptors(publicKey.excludeCredentials),
  };
}

function requestOptions(publicKey) {
  return {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    allowCredentials: descriptors(publicKey.allowCredentials),
  };
}

function optional(buffer) {
  return buffer ? toBase64url(buffer) : null;
}

function credentialJson(credential) {
  const response = credential.response;
  const encoded = { clientDataJSON: toBase64url(response.clientDataJSON) };
  if (response.attestationObject) {
    encoded.attestationObject = toBase64url(response.attestationObject);
    encoded.transports = response.getTransports ? response.getTransports() : [];
  } else {
    encoded.authenticatorData = toBase64url(response.authenticatorData);
    encoded.signature = toBase64url(response.signature);
    encoded.userHandle = optional(response.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: encoded,
    authenticatorAttachment: credential.authenticatorAttachment || null,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

function requireWebAuthn() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new Error("This browser cannot use passkeys or security keys here.");
  }
}

async function createCredential(publicKey) {
  requireWebAuthn();
  const credential = await navigator.credentials.create({ publicKey: creationOptions(publicKey) });
  return credentialJson(credential);
}

async function getCredential(publicKey) {
  requireWebAuthn();
  const credential = await navigator.credentials.get({ publicKey: requestOptions(publicKey) });
  return credentialJson(credential);
}

// ---------------------------------------------------------------- sign up and verify

function initSignup() {
  onSubmit(byId("signup-form"), async (data) => {
    const email = field(data, "email");
    await publicCall("POST", "/v1/auth/register", {
      username: field(data, "username"),
      email,
      password: String(data.get("password") || ""),
      consents: data.getAll("consents").map(String),
    });
    keepNotice("Check your email for a verification code.");
    goTo(`/verify-email?${new URLSearchParams({ email })}`);
  });
}

function initVerifyEmail() {
  const form = byId("verify-form");
  onSubmit(form, async (data) => {
    const body = { email: field(data, "email"), code: field(data, "code") };
    const answer = await publicCall("POST", "/v1/auth/verify-email", body);
    say(answer.detail);
    form.hidden = true;
    byId("verified-next").hidden = false;
  });
  const resend = byId("resend-code");
  resend.addEventListener("click", () =>
    guarded(resend, async () => {
      const email = String(new FormData(form).get("email") || "").trim();
      if (!email) throw new Error("Enter your email address first.");
      say((await publicCall("POST", "/v1/auth/verify-email/resend", { email })).detail);
    }),
  );
}

// ---------------------------------------------------------------- sign in

const signIn = { challengeId: null };

function finishSignIn(body) {
  const tokens = saveTokens(body);
  if (tokens.enrollment_only) keepNotice("Signed in. Add a second factor to continue.");
  goTo("/account");
}

function showSecondFactorStep(challenge) {
  signIn.challengeId = challenge.challenge_id;
  byId("password-step").hidden = true;
  const step = byId("mfa-step");
  step.hidden = false;
  for (const block of step.querySelectorAll("[data-method]")) {
    block.hidden = !challenge.methods.includes(block.dataset.method);
  }
  byId("mfa-heading").focus();
  say("");
}

async function answerChallenge(method, answer) {
  const body = { challenge_id: signIn.challengeId, method, device: deviceHints(), ...answer };
  finishSignIn(await publicCall("POST", "/v1/auth/mfa/verify", body));
}

function initCodeForms() {
  for (const method of ["totp", "sms", "email", "backup_code"]) {
    const form = byId(`mfa-${method}`);
    onSubmit(form, (data) => answerChallenge(method, { code: field(data, "code") }));
  }
  for (const sender of document.querySelectorAll("[data-send]")) {
    const method = sender.dataset.send;
    sender.addEventListener("click", () => guarded(sender, () => sendSignInCode(method)));
  }
}

async function sendSignInCode(method) {
  const body = { challenge_id: signIn.challengeId, method };
  await publicCall("POST", "/v1/auth/mfa/send", body);
  byId(`mfa-${method}`).hidden = false;
  byId(`mfa-${method}-code`).focus();
  say(method === "sms" ? "We sent a code to your phone." : "We sent a code to your email address.");
}

async function answerWithWebAuthn() {
  const options = await publicCall("POST", "/v1/auth/mfa/webauthn/options", {
    challenge_id: signIn.challengeId,
  });
  await answerChallenge("webauthn", { credential: await getCredential(options.publicKey) });
}

async function signInWithPasskey() {
  const options = await publicCall("POST", "/v1/auth/passkey/options");
  const credential = await getCredential(options.publicKey);
  const body = { challenge_id: options.challenge_id, credential, device: deviceHints() };
  finishSignIn(await publicCall("POST", "/v1/auth/passkey/login", body));
}

// A fraud lock: say what happened, until when, and what to do (the sign-in form goes).
function lockScreen(error) {
  if (!(error instanceof ApiError) || error.reason !== FRAUD_BLOCKED) throw error;
  byId("password-step").hidden = true;
  const until = Date.parse(error.problem.locked_until || "");
  if (!Number.isNaN(until)) {
    const when = new Date(until).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    byId("fraud-lock-until").textContent = `The pause ends at ${when} at the latest.`;
  }
  byId("fraud-lock").hidden = false;
  byId("fraud-lock-heading").focus();
  return new Promise(() => {}); // nothing more to do on this page
}

function initSignin() {
  onSubmit(byId("password-form"), async (data) => {
    const body = {
      login: field(data, "login"),
      password: String(data.get("password") || ""),
      device: deviceHints(),
    };
    const answer = await publicCall("POST", "/v1/auth/login", body).catch(lockScreen);
    if (answer.status === "mfa_required") showSecondFactorStep(answer);
    else finishSignIn(answer);
  });
  const passkey = byId("passkey-signin");
  passkey.addEventListener("click", () => guarded(passkey, signInWithPasskey));
  const webauthn = byId("mfa-webauthn");
  webauthn.addEventListener("click", () => guarded(webauthn, answerWithWebAuthn));
  byId("mfa-restart").addEventListener("click", () => goTo("/signin"));
  initCodeForms();
}

// ---------------------------------------------------------------- step-up

function stepUpRequired(error) {
  return error instanceof ApiError && STEP_UP_REASONS.includes(error.reason);
}

function pause(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

// Runs a sensitive action; when the server asks for a fresh factor, verifies one and retries.
async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (!stepUpRequired(error)) throw error;
    await stepUp();
    return afterStepUp(action);
  }
}

// Session state is cached on each server node for up to a second, so the first retry
// may still meet the state from before the step-up: try again for a little while.
async function afterStepUp(action) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (!stepUpRequired(error) || attempt >= STEP_UP_ATTEMPTS) throw error;
      await pause(STEP_UP_RETRY_MS);
    }
  }
}

function stepUpMethods(profile) {
  const strong = STRONG_METHODS.filter((method) => profile.mfa_methods.includes(method));
  return strong.length ? strong : CODE_METHODS.filter((m) => profile.mfa_methods.includes(m));
}

const METHOD_LABELS = {
  webauthn: "Use a passkey or security key",
  totp: "Use a code from your authenticator app",
  sms: "Text me a code",
  email: "Email me a code",
};

async function stepUp() {
  const methods = stepUpMethods(await signedInCall("GET", "/v1/me"));
  if (!methods.length) return signedOut("Sign in again to make this change.");
  const dialog = byId("step-up");
  return new Promise((resolve, reject) => {
    const done = { verified: false };
    // Closing the dialog any way (Cancel, Escape) without a verified factor cancels the change.
    dialog.onclose = () =>
      done.verified ? resolve() : reject(new Error("The change was cancelled."));
    byId("step-up-cancel").onclick = () => dialog.close();
    renderStepUpMethods(dialog, methods, done);
    byId("step-up-code").hidden = true;
    showMessage("step-up-alert", "");
    dialog.showModal();
  });
}

function renderStepUpMethods(dialog, methods, done) {
  const list = byId("step-up-methods");
  list.replaceChildren(
    ...methods.map((method) =>
      button(METHOD_LABELS[method], () => startStepUp(dialog, method, done).catch(stepUpFailed)),
    ),
  );
}

function stepUpFailed(error) {
  showMessage("step-up-alert", describe(error));
}

async function startStepUp(dialog, method, done) {
  showMessage("step-up-alert", "");
  const started = await signedInCall("POST", "/v1/auth/step-up/start", { method });
  if (method === "webauthn") {
    const credential = await getCredential(started.publicKey);
    await finishStepUp(dialog, done, { challenge_id: started.challenge_id, method, credential });
    return;
  }
  const form = byId("step-up-code");
  form.hidden = false;
  form.reset();
  form.onsubmit = (event) => {
    event.preventDefault();
    const code = String(new FormData(form).get("code") || "").trim();
    const body = { challenge_id: started.challenge_id, method, code };
    finishStepUp(dialog, done, body).catch(stepUpFailed);
  };
  byId("step-up-code-input").focus();
}

async function finishStepUp(dialog, done, body) {
  await signedInCall("POST", "/v1/auth/step-up", body);
  done.verified = true;
  dialog.close();
}

// ---------------------------------------------------------------- fraud step-up screen

const WHY = {
  session_moved: "Your session was used from a different network or device than the one you signed in on.",
  new_device_and_new_country: "You are using a new device in a country we have not seen you in.",
  impossible_travel: "Your request came from a country you could not have reached since your last sign-in.",
  unusual: "The request was unusual for your account.",
};
const HELD = { order: "an order", withdrawal: "a withdrawal", login: "a sign-in" };

async function initFraudVerify() {
  if (!requireTokens()) return;
  const asked = new URLSearchParams(window.location.search);
  const held = HELD[asked.get("action")] || "a request";
  byId("verify-what").textContent = `We held ${held} on your account before doing anything.`;
  byId("verify-why").textContent = WHY[asked.get("why")] || WHY.unusual;
  const start = byId("verify-start");
  start.addEventListener("click", () =>
    guarded(start, async () => {
      await stepUp();
      start.hidden = true;
      byId("verify-done").hidden = false;
      byId("verify-done-heading").focus();
    }),
  );
}

// ---------------------------------------------------------------- account security

const account = { pendingFactorId: null };

function requireTokens() {
  if (loadTokens()) return true;
  signedOut("Please sign in.");
  return false;
}

function initSignOut() {
  const control = byId("sign-out");
  if (!control) return;
  control.addEventListener("click", () =>
    guarded(control, async () => {
      await signedInCall("POST", "/v1/auth/logout").catch(() => null);
      await signedOut("You are signed out.");
    }),
  );
}

async function loadProfile() {
  const profile = await signedInCall("GET", "/v1/me");
  byId("profile-username").textContent = profile.username;
  byId("profile-email").textContent = profile.email;
  byId("enrol-first").hidden = !profile.enrollment_only;
  return profile;
}

const KIND_LABELS = {
  totp: "Authenticator app",
  webauthn: "Passkey or security key",
  sms: "Text message codes",
  email: "Email codes",
  backup_codes: "Backup codes",
};

function factorFacts(factor) {
  const facts = [KIND_LABELS[factor.kind] || factor.kind];
  if (factor.authenticator) facts.push(factor.authenticator);
  if (factor.backup_codes_left !== null && factor.backup_codes_left !== undefined) {
    facts.push(`${factor.backup_codes_left} codes left`);
  }
  facts.push(`added ${formatTime(factor.created_at)}`);
  facts.push(`last used ${formatTime(factor.last_used_at)}`);
  return facts.join(" · ");
}

function renameForm(factor) {
  const form = make("form", undefined, "inline");
  const inputId = `rename-${factor.id}`;
  const label = make("label", `New name for ${factor.name}`, "visually-hidden");
  label.htmlFor = inputId;
  const input = make("input");
  Object.assign(input, { id: inputId, name: "name", type: "text", required: true, maxLength: 64 });
  input.value = factor.name;
  const submit = make("button", "Rename");
  submit.type = "submit";
  form.append(label, input, submit);
  onSubmit(form, async (data) => {
    const path = `/v1/mfa/factors/${encodeURIComponent(factor.id)}`;
    const body = { name: field(data, "name") };
    showFactor(await withStepUp(() => signedInCall("PATCH", path, body)));
    say("The factor was renamed.");
  });
  return form;
}

async function removeFactor(factor) {
  const path = `/v1/mfa/factors/${encodeURIComponent(factor.id)}`;
  await withStepUp(() => signedInCall("DELETE", path));
  await signedOut(`“${factor.name}” was removed. Sign in again.`);
}

function factorItem(factor) {
  const item = make("li", undefined, "item");
  item.dataset.factorId = factor.id;
  item.dataset.kind = factor.kind;
  const name = make("p", factor.name, "item-title");
  const facts = make("p", factorFacts(factor), "item-facts");
  const remove = button("Remove", () => removeFactor(factor), "button-danger");
  remove.setAttribute("aria-label", `Remove ${factor.name}`);
  item.append(name, facts, renameForm(factor), remove);
  return item;
}

async function loadFactors() {
  const factors = await signedInCall("GET", "/v1/mfa/factors");
  byId("factor-list").replaceChildren(...factors.map(factorItem));
  byId("no-factors").hidden = factors.length > 0;
}

// Shows a factor as the server just answered it, in place of its old entry if any.
function showFactor(factor) {
  const item = factorItem(factor);
  const old = byId("factor-list").querySelector(`[data-factor-id="${CSS.escape(factor.id)}"]`);
  if (old) old.replaceWith(item);
  else byId("factor-list").append(item);
  byId("no-factors").hidden = true;
}

// A confirmation that opens the full session carries its upgraded tokens: keep them.
function factorConfirmed(answer, text) {
  if (answer.tokens) saveTokens(answer.tokens);
  showFactor(answer.factor);
  byId("enrol-first").hidden = true;
  say(text);
}

function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

async function enrolTotp() {
  const enrolled = await withStepUp(() => signedInCall("POST", "/v1/mfa/totp"));
  byId("totp-qr").src = svgDataUrl(enrolled.qr_svg);
  byId("totp-secret").textContent = enrolled.secret;
  byId("totp-setup").hidden = false;
  askForConfirmation(enrolled.factor.id, "Enter the code your authenticator app shows.");
}

function askForConfirmation(factorId, text) {
  account.pendingFactorId = factorId;
  const form = byId("confirm-factor");
  form.reset();
  form.hidden = false;
  byId("confirm-factor-code").focus();
  say(text);
}

async function confirmFactor(data) {
  const path = `/v1/mfa/factors/${encodeURIComponent(account.pendingFactorId)}/confirm`;
  const answer = await signedInCall("POST", path, { code: field(data, "code") });
  account.pendingFactorId = null;
  byId("confirm-factor").hidden = true;
  byId("totp-setup").hidden = true;
  factorConfirmed(answer, `“${answer.factor.name}” is ready to use.`);
}

async function enrolWebAuthn(authenticator) {
  const options = await withStepUp(() =>
    signedInCall("POST", "/v1/mfa/webauthn/options", { authenticator }),
  );
  const credential = await createCredential(options.publicKey);
  const name = byId("new-factor-name").value.trim() || null;
  const body = { challenge_id: options.challenge_id, credential, name };
  const answer = await signedInCall("POST", "/v1/mfa/webauthn", body);
  byId("new-factor-name").value = "";
  factorConfirmed(answer, `“${answer.factor.name}” is registered.`);
}

async function enrolCodeFactor(path, body, text) {
  const factor = await withStepUp(() => signedInCall("POST", path, body));
  askForConfirmation(factor.id, text);
}

async function generateBackupCodes() {
  const answer = await withStepUp(() => signedInCall("POST", "/v1/mfa/backup-codes"));
  byId("backup-codes").replaceChildren(...answer.codes.map((code) => make("li", code)));
  byId("backup-result").hidden = false;
  say("New backup codes were made; the old ones no longer work.");
  await loadFactors();
}

function onClick(id, action) {
  const control = byId(id);
  control.addEventListener("click", () => guarded(control, action));
}

async function initAccount() {
  if (!requireTokens()) return;
  onClick("enrol-totp", enrolTotp);
  onClick("enrol-platform", () => enrolWebAuthn("platform"));
  onClick("enrol-security-key", () => enrolWebAuthn("security-key"));
  onClick("enrol-email", () =>
    enrolCodeFactor("/v1/mfa/email", undefined, "Enter the code we emailed to you."),
  );
  onSubmit(byId("enrol-sms"), (data) =>
    enrolCodeFactor("/v1/mfa/sms", { phone: field(data, "phone") }, "Enter the code we texted."),
  );
  onSubmit(byId("confirm-factor"), confirmFactor);
  onClick("generate-backup-codes", generateBackupCodes);
  await loadProfile();
  await loadFactors();
}

// ---------------------------------------------------------------- sessions and devices

const listed = { currentDeviceId: null };

function removeItems(selector) {
  for (const item of document.querySelectorAll(selector)) item.remove();
}

function sessionItem(session) {
  const item = make("li", undefined, "item");
  item.dataset.sessionId = session.id;
  if (session.device_id) item.dataset.deviceId = session.device_id;
  const title = session.device_name;
  item.append(make("p", title, "item-title"));
  const facts = [
    `address ${session.ip || "unknown"}`,
    `signed in ${formatTime(session.created_at)}`,
    `last active ${formatTime(session.last_active_at)}`,
  ];
  item.append(make("p", facts.join(" · "), "item-facts"));
  if (session.current) {
    item.dataset.current = "true";
    item.append(make("p", "This session", "badge"));
  } else {
    const revoke = button("Sign out", () => revokeSession(session.id), "button-danger");
    revoke.setAttribute("aria-label", `Sign out the session from ${title}`);
    item.append(revoke);
  }
  return item;
}

// The answer is the record of what ended: the list drops it without asking again.
async function revokeSession(sessionId) {
  await signedInCall("DELETE", `/v1/sessions/${encodeURIComponent(sessionId)}`);
  removeItems(`#session-list [data-session-id="${CSS.escape(sessionId)}"]`);
  say("The session was signed out.");
}

function deviceItem(device) {
  const item = make("li", undefined, "item");
  item.dataset.deviceId = device.id;
  item.append(make("p", device.name, "item-title"));
  const facts = [
    device.approved ? "approved" : "not approved",
    `first seen ${formatTime(device.first_seen_at)}`,
    `last seen ${formatTime(device.last_seen_at)}`,
  ];
  item.append(make("p", facts.join(" · "), "item-facts"));
  const forget = button("Forget", () => forgetDevice(device.id), "button-danger");
  forget.setAttribute("aria-label", `Forget ${device.name}`);
  item.append(forget);
  return item;
}

async function forgetDevice(deviceId) {
  await signedInCall("DELETE", `/v1/devices/${encodeURIComponent(deviceId)}`);
  if (deviceId === listed.currentDeviceId) {
    await signedOut("This device was forgotten and signed out.");
  }
  const selector = `[data-device-id="${CSS.escape(deviceId)}"]`;
  removeItems(`#device-list ${selector}, #session-list ${selector}`);
  say("The device was forgotten and its sessions signed out.");
}

async function loadSessions() {
  const [sessions, devices] = await Promise.all([
    signedInCall("GET", "/v1/sessions"),
    signedInCall("GET", "/v1/devices"),
  ]);
  const current = sessions.find((session) => session.current);
  listed.currentDeviceId = current ? current.device_id : null;
  byId("session-list").replaceChildren(...sessions.map(sessionItem));
  byId("device-list").replaceChildren(...devices.map(deviceItem));
}

async function revokeOtherSessions() {
  const answer = await signedInCall("DELETE", "/v1/sessions");
  removeItems("#session-list li:not([data-current])");
  say(
    answer.revoked === 1
      ? "1 other session was signed out."
      : `${answer.revoked} other sessions were signed out.`,
  );
}

async function initSessions() {
  if (!requireTokens()) return;
  onClick("revoke-other-sessions", revokeOtherSessions);
  try {
    await loadSessions();
  } catch (error) {
    if (!(error instanceof ApiError) || error.reason !== ENROLMENT_REQUIRED) throw error;
    keepNotice(error.message);
    goTo("/account");
  }
}

// ---------------------------------------------------------------- emailed links

function initDeviceLink() {
  const form = byId("device-link-form");
  if (!form) return;
  onSubmit(form, async (data) => {
    const action = form.dataset.action === "report" ? "report" : "approve";
    const body = { token: field(data, "token") };
    const device = await publicCall("POST", `/v1/devices/${action}`, body);
    form.hidden = true;
    byId("device-link-done").hidden = false;
    say(
      action === "approve"
        ? `“${device.name}” is approved.`
        : `“${device.name}” was signed out and forgotten. Change your password now.`,
    );
  });
}

// A one-time staff enrolment link: choose a username and password, which opens an
// enrolment-only session, then register the security key the account will sign in with.
async function registerStaffKey(authenticator) {
  const options = await signedInCall("POST", "/v1/mfa/webauthn/options", { authenticator });
  const credential = await createCredential(options.publicKey);
  const name = byId("staff-key-name").value.trim() || null;
  const body = { challenge_id: options.challenge_id, credential, name };
  const answer = await signedInCall("POST", "/v1/mfa/webauthn", body);
  if (!answer.tokens) throw new Error("This authenticator does not count as a staff security key.");
  saveTokens(answer.tokens);
  keepNotice(`“${answer.factor.name}” is registered. Your staff account is ready.`);
  goTo("/account");
}

function showStaffKeyStep(started) {
  byId("staff-account-step").hidden = true;
  byId("staff-key-step").hidden = false;
  byId("staff-enrol-platform").hidden = !started.authenticators.includes("platform");
  byId("staff-key-heading").focus();
  say(`Welcome, ${started.username}. Now register your security key.`);
}

function initStaffEnrolment() {
  const form = byId("staff-enrolment-form");
  if (!form) return;
  onSubmit(form, async (data) => {
    const started = await publicCall("POST", "/v1/staff/enrolment", {
      token: field(data, "token"),
      username: field(data, "username"),
      password: String(data.get("password") || ""),
      device: deviceHints(),
    });
    saveTokens(started.tokens);
    showStaffKeyStep(started);
  });
  onClick("staff-enrol-security-key", () => registerStaffKey("security-key"));
  onClick("staff-enrol-platform", () => registerStaffKey("platform"));
}

function initResetPassword() {
  onSubmit(byId("forgot-form"), async (data) => {
    const email = field(data, "email");
    say((await publicCall("POST", "/v1/auth/password/forgot", { email })).detail);
    byId("reset-email").value = email;
    byId("reset-code").focus();
  });
  onSubmit(byId("reset-form"), async (data, form) => {
    const body = {
      email: field(data, "email"),
      code: field(data, "code"),
      new_password: String(data.get("new_password") || ""),
    };
    say((await publicCall("POST", "/v1/auth/password/reset", body)).detail);
    form.hidden = true;
    byId("forgot-form").hidden = true;
    byId("reset-next").hidden = false;
  });
}

// ---------------------------------------------------------------- start

const PAGES = {
  signup: initSignup,
  "verify-email": initVerifyEmail,
  signin: initSignin,
  account: initAccount,
  sessions: initSessions,
  "device-link": initDeviceLink,
  "reset-password": initResetPassword,
  "staff-enrolment": initStaffEnrolment,
  "fraud-verify": initFraudVerify,
};

async function start() {
  showKeptNotice();
  initSignOut();
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
export {
  ApiError,
  byId,
  button,
  complain,
  describe,
  field,
  formatTime,
  guarded,
  loadTokens,
  make,
  onSubmit,
  say,
  signedInCall,
  withStepUp,
};
