// Calls to the service. Every failure becomes an ApiError whose message is a sentence for people:
// the server's problem+json detail when it has one, otherwise words chosen by status code.

/**
 * An API call that did not succeed. `status` is 0 when the service could not be reached;
 * `fromServer` says whether the message is the server's own problem detail.
 */
export class ApiError extends Error {
  constructor(message, status, fromServer = false) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fromServer = fromServer;
  }
}

const wordsByStatus = {
  400: "The service could not use that request.",
  404: "The service has no such item. It may have been deleted.",
  405: "The service does not support that action.",
  408: "The upload took too long. Try again.",
  413: "That file is too large for the service. Try a smaller image.",
  415: "That file is not an image the service can read. Try a PNG or JPEG.",
  422: "The service could not use that file.",
  429: "The service is busy right now. Try again in a moment.",
  500: "The service ran into a problem. Try again.",
  502: "The service is not reachable right now.",
  503: "The service is not ready yet. Try again in a moment.",
  504: "The service took too long to answer.",
};

const unreachable =
  "Could not reach the service. Check that it is running and that you are online, then try again.";

// The API key, once the service asked for one: kept for this browser tab's session only, never in localStorage.
const keyItem = "predictionapi-key";

export function currentKey() {
  return sessionStorage.getItem(keyItem);
}

export function forgetKey() {
  sessionStorage.removeItem(keyItem);
}

function authorization() {
  const key = currentKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// Asks the person for a key (set by the page); resolves to the key, or null when they decline.
let askForKey = null;
let asking = null;

/** Registers what to do when the service answers 401: (reason) => Promise<string | null>. */
export function onKeyNeeded(ask) {
  askForKey = ask;
}

// Every request waiting on a 401 shares one prompt.
function keyFromPerson(reason) {
  if (!askForKey) return Promise.resolve(null);
  asking ??= askForKey(reason).finally(() => {
    asking = null;
  });
  return asking;
}

/** Fetches with the key when there is one; on 401 asks for a key and tries again with it. */
async function send(url, init) {
  for (;;) {
    const sentWith = currentKey();
    const response = await fetch(url, { ...init, headers: { ...init.headers, ...authorization() } });
    if (response.status !== 401 || !askForKey) return response;
    // Another request may have been given a key meanwhile; try that one before asking.
    if (currentKey() && currentKey() !== sentWith) continue;
    // A key that was sent and refused: the service's words say why (unknown, revoked, expired).
    const reason = sentWith ? (await describeFailure(response.clone())).message : null;
    const key = await keyFromPerson(reason);
    if (!key) return response;
    sessionStorage.setItem(keyItem, key);
  }
}

/** Fetches a URL (relative to the page, so the site also works under a path prefix) and returns parsed JSON. */
export async function requestJson(url, init = {}) {
  let response;
  try {
    response = await send(url, { ...init, headers: { Accept: "application/json", ...init.headers } });
  } catch (error) {
    // fetch only rejects on network failure or abort; an abort is the caller's choice, not an error to show.
    if (error?.name === "AbortError") throw error;
    throw new ApiError(unreachable, 0);
  }
  if (response.status === 401) {
    throw new ApiError("This service needs an API key, and none was given. Repeat the action to enter one.", 401);
  }
  if (!response.ok) {
    const { message, fromServer } = await describeFailure(response);
    throw new ApiError(message, response.status, fromServer);
  }
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError("The service sent an answer this page could not read.", response.status);
  }
}

// What each scope lets a key do, in the words a 403 is explained with.
const permissionWords = {
  predict: "classify and store images",
  read: "see stored predictions, images, statistics and models",
  feedback: "record true labels",
  admin: "delete predictions and manage the service",
};

async function describeFailure(response) {
  if (response.status === 403) {
    // The scope is named in the challenge (RFC 6750): Bearer error="insufficient_scope", scope="predict".
    const scope = /scope="([a-z]+)"/.exec(response.headers.get("www-authenticate") ?? "")?.[1];
    const what = permissionWords[scope];
    const message = what
      ? `Your API key does not have the “${scope}” permission, which is needed to ${what}. Ask the service's operator for a key that has it.`
      : "Your API key is not allowed to do this. Ask the service's operator for a key that is.";
    return { message, fromServer: false };
  }
  const fallback = wordsByStatus[response.status]
    ?? (response.status >= 500 ? wordsByStatus[500] : `The service refused the request (HTTP ${response.status}).`);
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return { message: fallback, fromServer: false };

  let problem;
  try {
    problem = await response.json();
  } catch {
    return { message: fallback, fromServer: false };
  }
  const detail = text(problem?.detail) || firstValidationError(problem?.errors);
  if (detail) return { message: sentence(detail), fromServer: true };
  // A bare title is usually the HTTP reason phrase ("Bad Request"); the status words say more.
  return { message: fallback, fromServer: false };
}

function firstValidationError(errors) {
  if (!errors || typeof errors !== "object") return "";
  for (const messages of Object.values(errors)) {
    const first = Array.isArray(messages) ? text(messages[0]) : text(messages);
    if (first) return first;
  }
  return "";
}

function text(value) {
  return typeof value === "string" ? value.trim() : "";
}

function sentence(value) {
  const trimmed = value.length > 400 ? `${value.slice(0, 400)}…` : value;
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** A random Idempotency-Key (crypto.randomUUID exists only on https and localhost, getRandomValues everywhere). */
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Posts one image as multipart field `file` to the named model (the service's default when none) and asks
 * for the tensor the model saw. Each call (one click) carries its own Idempotency-Key, so a retried request
 * cannot store the image twice.
 */
export function predict(blob, filename, model, signal) {
  const form = new FormData();
  form.append("file", blob, filename);
  const query = model ? `model=${encodeURIComponent(model)}&include=tensor` : "include=tensor";
  return requestJson(`prediction?${query}`, {
    method: "POST",
    body: form,
    signal,
    headers: { "Idempotency-Key": newIdempotencyKey() },
  });
}

/** One page of stored predictions, newest first. */
export function listPredictions({ limit, cursor, likelyClass, model }, signal) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  if (model) query.set("model", model);
  if (likelyClass !== "" && likelyClass != null) query.set("likely_class", String(likelyClass));
  return requestJson(`predictions?${query}`, { signal });
}

export function getPrediction(id, signal) {
  return requestJson(`prediction/${encodeURIComponent(id)}`, { signal });
}

export function imageUrl(id) {
  return `prediction/${encodeURIComponent(id)}/image`;
}

/**
 * Shows stored image `id` in `image`. An <img> cannot send the key, so with a key the bytes are fetched with
 * it and shown from a blob: URL; without one the browser loads the URL itself, lazily.
 */
export async function showImage(image, id) {
  if (!currentKey()) {
    image.src = imageUrl(id);
    return;
  }
  try {
    const response = await send(imageUrl(id), {});
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    image.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
    image.src = url;
  } catch {
    image.classList.add("broken");
  }
}

// The note is always sent: the form shows the stored one, so an emptied field means "clear it" (null), and a
// field left out of the merge patch would keep the old note.
export function recordTrueLabel(id, trueLabel, note, signal) {
  const body = { true_label: trueLabel, note: note || null };
  return requestJson(`prediction/${encodeURIComponent(id)}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

/** The models this service serves, each with its labels and input description. */
export function listModels(signal) {
  return requestJson("models", { signal });
}

export function getModel(name, signal) {
  return requestJson(`models/${encodeURIComponent(name)}`, { signal });
}

function rangeQuery(values) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  return query;
}

/** Counts per class, the confidence histogram and, where true labels exist, the confusion matrix. */
export function getStats({ model, from, to }, signal) {
  return requestJson(`predictions/stats?${rangeQuery({ model, from, to })}`, { signal });
}

/** Predictions per class per hour or day (every bucket of the range, empty ones too). */
export function getSeries({ model, from, to, bucket }, signal) {
  return requestJson(`predictions/stats/series?${rangeQuery({ model, from, to, bucket })}`, { signal });
}

/** Two models (name or name:version) on the inputs both classified, with a page of their disagreements. */
export function compareModels({ baseline, candidate, from, to, limit, cursor }, signal) {
  return requestJson(`models/compare?${rangeQuery({ baseline, candidate, from, to, limit, cursor })}`, { signal });
}
