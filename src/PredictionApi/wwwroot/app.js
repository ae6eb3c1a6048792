// Wires the page together: the model picker chooses which served model answers, the drawing pad (digit
// models) or an uploaded file goes to POST /prediction?model=, the answer fills the result panel, the
// gallery reloads to show what was stored, and the dashboard tab draws the chosen model's statistics.

import { ApiError, currentKey, forgetKey, getModel, listModels, onKeyNeeded, predict } from "./api.js";
import { drawTensor, labelOf, percent, renderBars } from "./charts.js";
import { Dashboard } from "./dashboard.js";
import { DetailDialog } from "./detail.js";
import { Gallery } from "./gallery.js";
import { KeyPrompt } from "./key.js";
import { DrawingPad } from "./pad.js";

const $ = (selector) => document.querySelector(selector);

const ui = {
  padFrame: $("#drop-zone"),
  pad: $("#pad"),
  preview: $("#preview"),
  inputHeading: $("#input-heading"),
  padHint: $("#pad-hint"),
  placeholder: $("#pad-placeholder"),
  fileNote: $("#pad-file"),
  predict: $("#predict"),
  clear: $("#clear"),
  file: $("#file"),
  message: $("#message"),
  resultEmpty: $("#result-empty"),
  resultBody: $("#result-body"),
  resultClass: $("#result-class"),
  resultConfidence: $("#result-confidence"),
  resultMeta: $("#result-meta"),
  bars: $("#bars"),
  tensorFigure: $("#tensor-figure"),
  tensor: $("#tensor"),
  tensorCaption: $("#tensor-caption"),
  filter: $("#filter"),
  model: $("#model"),
  galleryModel: $("#gallery-model"),
  tabs: [...document.querySelectorAll('[role="tab"]')],
};

// Once keys are on, the service answers 401 until the page sends one: ask for it in a form, then go on.
const keyPrompt = new KeyPrompt($("#key-dialog"));
const forgetButton = $("#forget-key");
onKeyNeeded(async (reason) => {
  const key = await keyPrompt.ask(reason);
  if (key) forgetButton.hidden = false;
  return key;
});
forgetButton.hidden = !currentKey();
forgetButton.addEventListener("click", () => {
  forgetKey();
  location.reload();
});

// Class names come from the model's manifest (GET /models/{name}); until they arrive, or if
// the service cannot say, classes are shown by index.
const labelRequests = new Map();
const knownLabels = new Map();

function loadLabels(modelName) {
  if (!modelName) return Promise.resolve(null);
  if (!labelRequests.has(modelName)) {
    const request = getModel(modelName)
      .then((model) => rememberLabels(modelName, model?.labels))
      .catch(() => null);
    labelRequests.set(modelName, request);
  }
  return labelRequests.get(modelName);
}

function rememberLabels(modelName, labels) {
  const names = Array.isArray(labels) ? labels.map(String) : null;
  knownLabels.set(modelName, names);
  labelRequests.set(modelName, Promise.resolve(names));
  if (names) {
    // The filter offers the classes of the model the gallery shows; other models' labels only rename cards.
    if (filterModel() === modelName) fillFilter(names);
    gallery.relabel();
  }
  return names;
}

// The served models (GET /models) and the one chosen in the picker: it answers uploads and drawings,
// names the classes, and decides between the drawing pad (digit models) and an image upload.
let models = [];
let chosen = null;

async function loadModels() {
  let list;
  try {
    list = await listModels();
  } catch (error) {
    // Not fatal: the service's default model answers, and classes are shown by index.
    ui.model.replaceChildren(new Option("Default model", ""));
    ui.model.title = error instanceof ApiError ? `The models could not be listed. ${error.message}` : "";
    return;
  }
  models = Array.isArray(list) ? list.filter((model) => model?.name) : [];
  const options = models.map((model) => {
    const ready = model.state === "ready";
    const version = model.version ? ` ${model.version}` : "";
    const option = new Option(ready ? `${model.name}${version}` : `${model.name} (${model.state})`, model.name);
    option.disabled = !ready;
    option.dataset.state = model.state ?? "";
    // Why a model cannot be chosen, on hover.
    if (!ready) option.title = model.reason || `This model is ${model.state}.`;
    return option;
  });
  ui.model.replaceChildren(...options);
  ui.galleryModel.replaceChildren(new Option("All models", ""), ...models.map((model) => new Option(model.name, model.name)));
  for (const model of models) rememberLabels(model.name, model.labels);
  dashboard.setModels(models);
  const ready = models.filter((model) => model.state === "ready");
  const first = ready.find((model) => model.default) ?? ready[0];
  ui.model.disabled = ready.length === 0;
  if (first) chooseModel(first.name);
}

const modelNamed = (name) => models.find((model) => model.name === name) ?? null;

// A digit model gets the drawing pad: by its preprocessing profile, or, without one, MNIST's 28 × 28 grey input.
function isDigitModel(model) {
  const input = model?.input;
  if (!input) return true;
  if (input.profile && input.profile !== "none") return input.profile === "mnist";
  return input.height === 28 && input.width === 28 && input.channels === 1;
}

function chooseModel(name) {
  chosen = modelNamed(name);
  ui.model.value = name;
  digitMode = isDigitModel(chosen);
  forgetUpload();
  pad.clear({ silent: true });
  ui.pad.hidden = !digitMode;
  ui.inputHeading.textContent = digitMode ? "Your digit" : "Your image";
  ui.padHint.textContent = digitMode
    ? "Draw with a mouse, finger or pen, or drop an image here."
    : `Upload, drop or paste an image for ${name}; it is classified as soon as it arrives.`;
  ui.placeholder.textContent = digitMode ? "Draw here" : "Drop an image here";
  showNoResult("Press Predict to see what the model thinks.");
  say("");
  refreshInputState();
  // The gallery and the dashboard follow the picker.
  ui.galleryModel.value = name;
  fillFilter(labelsOf(name) ?? defaultClasses);
  gallery.reset({ model: name, likelyClass: "" });
  dashboard.show(name);
}

const filterModel = () => ui.galleryModel.value || chosen?.name || null;

const labelsOf = (modelName) => knownLabels.get(modelName) ?? null;

// Uploaded file waiting to be predicted; null means the drawing on the pad is what gets sent.
let upload = null;
let busy = false;
let digitMode = true;
let previewUrl = null;

function forgetUpload() {
  upload = null;
  ui.preview.hidden = true;
  ui.preview.removeAttribute("src");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
}

const pad = new DrawingPad($("#pad"), (change) => {
  // Drawing over an uploaded picture turns it into a drawing: what the user sees is what is sent.
  if (change.kind === "stroke" || change.kind === "clear") forgetUpload();
  refreshInputState();
});

const dialog = new DetailDialog($("#detail"), {
  loadLabels,
  onSaved: (prediction) => gallery.update(prediction),
});

const gallery = new Gallery({
  list: $("#gallery"),
  more: $("#more"),
  message: $("#gallery-message"),
  onOpen: (id) => dialog.open(id),
  labelsOf,
});

const dashboard = new Dashboard($("#view-dashboard"));

function refreshInputState() {
  const hasInput = upload !== null || (digitMode && !pad.isEmpty);
  ui.predict.disabled = busy || !hasInput;
  ui.clear.disabled = busy || !hasInput;
  ui.placeholder.hidden = hasInput;
  ui.fileNote.hidden = upload === null || !upload.noPreview;
  ui.fileNote.textContent = upload?.noPreview ? `${upload.name}\n(no preview)` : "";
}

function say(text, kind = "info") {
  ui.message.textContent = text;
  ui.message.classList.toggle("error", kind === "error");
  ui.message.classList.toggle("success", kind === "success");
}

async function runPrediction() {
  if (busy) return;
  busy = true;
  refreshInputState();
  ui.predict.textContent = "Predicting…";
  ui.predict.setAttribute("aria-busy", "true");
  say("Sending the image to the model…");
  // The previous answer belongs to the previous input: never leave it beside a new one.
  showNoResult("Waiting for the model…");
  try {
    const blob = upload?.file ?? (await pad.toBlob());
    const name = upload?.name ?? "drawing.png";
    const result = await predict(blob, name, chosen?.name);
    const labels = await loadLabels(result.model?.name);
    showResult(result, labels);
    say(`Stored as prediction ${result.prediction_id}.`, "success");
    gallery.reset({ highlight: result.prediction_id });
    dashboard.stale();
  } catch (error) {
    say(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`, "error");
    showNoResult("No prediction for this input: the message under the drawing says why.");
  } finally {
    busy = false;
    ui.predict.textContent = "Predict";
    ui.predict.removeAttribute("aria-busy");
    refreshInputState();
  }
}

function showNoResult(text) {
  ui.resultBody.hidden = true;
  ui.resultEmpty.textContent = text;
  ui.resultEmpty.hidden = false;
}

function showResult(result, labels) {
  const probabilities = Array.isArray(result.prediction) ? result.prediction : [];
  ui.resultClass.textContent = labelOf(labels, result.likely_class);
  ui.resultClass.parentElement.classList.toggle("long", ui.resultClass.textContent.length > 3);
  ui.resultConfidence.textContent = percent(result.confidence ?? probabilities[result.likely_class]);
  const model = [result.model?.name, result.model?.version].filter(Boolean).join(" ");
  ui.resultMeta.textContent = model ? `${model} · prediction ${result.prediction_id}` : `prediction ${result.prediction_id}`;
  renderBars(ui.bars, probabilities, labels, result.likely_class);

  const tensor = result.tensor;
  const drawable = tensor && Array.isArray(tensor.shape) && tensor.shape.length === 4 && Array.isArray(tensor.data);
  ui.tensorFigure.hidden = !drawable;
  if (drawable) {
    const { width, height, channels } = drawTensor(ui.tensor, tensor);
    ui.tensor.setAttribute("aria-label", `The ${width} by ${height} input the model saw`);
    const profile = modelNamed(result.model?.name)?.input?.profile;
    ui.tensorCaption.textContent = tensorCaption(width, height, channels, profile);
  }

  ui.resultEmpty.hidden = true;
  ui.resultBody.hidden = false;
  // On a phone the result sits below the pad: bring it up rather than leave it off screen.
  const panel = ui.resultBody.closest(".panel");
  if (panel.getBoundingClientRect().top > window.innerHeight * 0.6) {
    panel.scrollIntoView({ behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth", block: "start" });
  }
}

function tensorCaption(width, height, channels, profile) {
  const kind = channels === 1 ? "grayscale" : "colour";
  const grid = `${width} × ${height} ${kind}`;
  // Without the manifest's word on it, a single-channel 28 × 28 input is taken to be MNIST-style.
  const mnist = profile && profile !== "none" ? profile === "mnist" : channels === 1 && width === 28 && height === 28;
  if (mnist) {
    return `Your image after preprocessing, as a ${grid} grid: inverted to a light digit on black, cropped to the ink and centred, the way MNIST digits were made. Each square is one number the network read.`;
  }
  return `Your image after preprocessing, as a ${grid} grid: resized and scaled the way the model expects. Each square is one pixel the network read.`;
}

function fillFilter(labels) {
  const selected = ui.filter.value;
  const options = [new Option("All classes", "")];
  labels.forEach((label, index) => options.push(new Option(label, String(index))));
  ui.filter.replaceChildren(...options);
  ui.filter.value = labels[Number(selected)] !== undefined ? selected : "";
}

async function useFile(file) {
  if (!file) return;
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    // Not decodable here; the service decides by the bytes and will explain if it cannot either.
  }
  forgetUpload();
  if (bitmap && digitMode) {
    pad.showPicture(bitmap);
  } else {
    pad.clear({ silent: true });
  }
  if (bitmap && !digitMode) {
    previewUrl = URL.createObjectURL(file);
    ui.preview.src = previewUrl;
    ui.preview.alt = `The image to classify: ${file.name || "upload"}`;
    ui.preview.hidden = false;
  }
  bitmap?.close();
  upload = { file, name: file.name || "upload", noPreview: !bitmap };
  refreshInputState();
  await runPrediction();
}

ui.predict.addEventListener("click", runPrediction);
ui.clear.addEventListener("click", () => {
  forgetUpload();
  pad.clear();
  say("");
});
ui.file.addEventListener("change", () => {
  const [file] = ui.file.files;
  // Reset so that choosing the same file again still fires "change".
  ui.file.value = "";
  useFile(file);
});

// Drop an image anywhere on the pad.
ui.padFrame.addEventListener("dragover", (event) => {
  if (!event.dataTransfer?.types.includes("Files")) return;
  event.preventDefault();
  ui.padFrame.classList.add("dragging");
});
ui.padFrame.addEventListener("dragleave", () => ui.padFrame.classList.remove("dragging"));
ui.padFrame.addEventListener("drop", (event) => {
  event.preventDefault();
  ui.padFrame.classList.remove("dragging");
  useFile(event.dataTransfer?.files?.[0]);
});

// Paste an image from the clipboard (a screenshot, say) when no text field has focus.
document.addEventListener("paste", (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
  // On the dashboard a paste would classify an image no one can see being sent.
  if ($("#view-try").hidden) return;
  const file = [...(event.clipboardData?.files ?? [])].find((each) => each.type.startsWith("image/"));
  if (file) useFile(file);
});

// Keyboard shortcuts on the pad: Enter predicts, Delete or Backspace clears.
$("#pad").addEventListener("keydown", (event) => {
  if (!digitMode) return;
  if (event.key === "Enter" && !ui.predict.disabled) runPrediction();
  if ((event.key === "Delete" || event.key === "Backspace") && !ui.clear.disabled) pad.clear();
});

ui.filter.addEventListener("change", () => gallery.reset({ likelyClass: ui.filter.value }));
ui.galleryModel.addEventListener("change", () => {
  fillFilter(labelsOf(filterModel()) ?? defaultClasses);
  gallery.reset({ model: ui.galleryModel.value, likelyClass: "" }).then(loadCardLabels);
});
ui.model.addEventListener("change", () => chooseModel(ui.model.value));
$("#refresh").addEventListener("click", () => gallery.reset());

// Two views, as tabs: trying the model, and its dashboard. #dashboard in the address opens the second.
function showView(tab, { focus = false } = {}) {
  for (const each of ui.tabs) {
    const selected = each === tab;
    each.setAttribute("aria-selected", String(selected));
    each.tabIndex = selected ? 0 : -1;
    document.getElementById(each.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  dashboard.setVisible(tab.id === "tab-dashboard");
  history.replaceState(null, "", tab.id === "tab-dashboard" ? "#dashboard" : location.pathname + location.search);
}
for (const tab of ui.tabs) {
  tab.addEventListener("click", () => showView(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const index = (ui.tabs.indexOf(tab) + step + ui.tabs.length) % ui.tabs.length;
    showView(ui.tabs[index], { focus: true });
  });
}

// Stored predictions may come from an earlier model; make sure their labels are known too.
function loadCardLabels() {
  const names = new Set([...document.querySelectorAll("#gallery button[data-model]")].map((card) => card.dataset.model));
  for (const name of names) if (name) loadLabels(name);
}

// Until the model's labels are known, offer the class indices of a ten-class model.
const defaultClasses = Array.from({ length: 10 }, (_, index) => String(index));
fillFilter(defaultClasses);
refreshInputState();
if (location.hash === "#dashboard") showView($("#tab-dashboard"));
loadModels().then(() => {
  // Without a model list the gallery still shows every stored prediction.
  if (!chosen) gallery.reset().then(loadCardLabels);
  else gallery.loadMore().then(loadCardLabels);
});
