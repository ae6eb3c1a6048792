// Wires the page together: the drawing pad or an uploaded file goes to POST /prediction,
// the answer fills the result panel, and the gallery reloads to show what was stored.

import { ApiError, currentKey, forgetKey, getModel, listModels, onKeyNeeded, predict } from "./api.js";
import { drawTensor, labelOf, percent, renderBars } from "./charts.js";
import { DetailDialog } from "./detail.js";
import { Gallery } from "./gallery.js";
import { KeyPrompt } from "./key.js";
import { DrawingPad } from "./pad.js";

const $ = (selector) => document.querySelector(selector);

const ui = {
  padFrame: $("#drop-zone"),
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
  modelBadge: $("#model-badge"),
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
    // The filter offers the served model's classes; older models' labels only rename cards.
    if (!servedModel || servedModel.name === modelName) fillFilter(names);
    gallery.relabel();
  }
  return names;
}

// The model being served (GET /models): its name for the header, its labels for the filter,
// and its preprocessing profile for the tensor caption.
let servedModel = null;

async function loadServedModel() {
  try {
    const models = await listModels();
    const model = Array.isArray(models) ? models[0] : null;
    if (!model?.name) return;
    servedModel = model;
    rememberLabels(model.name, model.labels);
    showModel(model);
  } catch {
    // Not fatal: classes are then shown by index until a prediction names its model.
  }
}

const labelsOf = (modelName) => knownLabels.get(modelName) ?? null;

// Uploaded file waiting to be predicted; null means the drawing on the pad is what gets sent.
let upload = null;
let busy = false;

const pad = new DrawingPad($("#pad"), (change) => {
  // Drawing over an uploaded picture turns it into a drawing: what the user sees is what is sent.
  if (change.kind === "stroke") upload = null;
  if (change.kind === "clear") upload = null;
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

function refreshInputState() {
  const hasInput = upload !== null || !pad.isEmpty;
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
    const result = await predict(blob, name);
    const labels = await loadLabels(result.model?.name);
    showResult(result, labels);
    say(`Stored as prediction ${result.prediction_id}.`, "success");
    gallery.reset({ highlight: result.prediction_id });
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
  ui.resultConfidence.textContent = percent(result.confidence ?? probabilities[result.likely_class]);
  const model = [result.model?.name, result.model?.version].filter(Boolean).join(" ");
  ui.resultMeta.textContent = model ? `${model} · prediction ${result.prediction_id}` : `prediction ${result.prediction_id}`;
  renderBars(ui.bars, probabilities, labels, result.likely_class);
  showModel(result.model);

  const tensor = result.tensor;
  const drawable = tensor && Array.isArray(tensor.shape) && tensor.shape.length === 4 && Array.isArray(tensor.data);
  ui.tensorFigure.hidden = !drawable;
  if (drawable) {
    const { width, height, channels } = drawTensor(ui.tensor, tensor);
    ui.tensor.setAttribute("aria-label", `The ${width} by ${height} input the model saw`);
    const profile = servedModel?.name === result.model?.name ? servedModel.input?.profile : undefined;
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
  const mnist = profile ? profile === "mnist" : channels === 1 && width === 28 && height === 28;
  if (mnist) {
    return `Your image after preprocessing, as a ${grid} grid: inverted to a light digit on black, cropped to the ink and centred, the way MNIST digits were made. Each square is one number the network read.`;
  }
  return `Your image after preprocessing, as a ${grid} grid: resized and scaled the way the model expects. Each square is one pixel the network read.`;
}

function showModel(model) {
  if (!model?.name) return;
  ui.modelBadge.textContent = `Model: ${[model.name, model.version].filter(Boolean).join(" ")}`;
  ui.modelBadge.hidden = false;
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
  if (bitmap) {
    pad.showPicture(bitmap);
    bitmap.close();
  } else {
    pad.clear({ silent: true });
  }
  upload = { file, name: file.name || "upload", noPreview: !bitmap };
  refreshInputState();
  await runPrediction();
}

ui.predict.addEventListener("click", runPrediction);
ui.clear.addEventListener("click", () => {
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
  const file = [...(event.clipboardData?.files ?? [])].find((each) => each.type.startsWith("image/"));
  if (file) useFile(file);
});

// Keyboard shortcuts on the pad: Enter predicts, Delete or Backspace clears.
$("#pad").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !ui.predict.disabled) runPrediction();
  if ((event.key === "Delete" || event.key === "Backspace") && !ui.clear.disabled) pad.clear();
});

ui.filter.addEventListener("change", () => gallery.reset({ likelyClass: ui.filter.value }));
$("#refresh").addEventListener("click", () => gallery.reset());

// Until the model's labels are known, offer the class indices of a ten-class model.
fillFilter(Array.from({ length: 10 }, (_, index) => String(index)));
refreshInputState();
loadServedModel();
gallery.reset().then(() => {
  // Stored predictions may come from an earlier model; make sure their labels are known too.
  const models = new Set([...document.querySelectorAll("#gallery button[data-model]")].map((card) => card.dataset.model));
  for (const model of models) if (model) loadLabels(model);
});
