// The detail dialog: one stored prediction with its full image, probabilities, time and model,
// and a form that records the true label. <dialog> gives focus trapping and Escape for free.

import { ApiError, getPrediction, recordTrueLabel, showImage } from "./api.js";
import { formatTime, labelOf, percent, renderBars } from "./charts.js";

export class DetailDialog {
  #dialog;
  #parts;
  #loadLabels;
  #onSaved;
  #abort = null;
  #current = null;

  /**
   * @param {HTMLDialogElement} dialog
   * @param {{ loadLabels: (modelName: string) => Promise<string[] | null>,
   *           onSaved: (prediction: object) => void }} hooks
   */
  constructor(dialog, { loadLabels, onSaved }) {
    this.#dialog = dialog;
    this.#loadLabels = loadLabels;
    this.#onSaved = onSaved;
    const $ = (selector) => dialog.querySelector(selector);
    this.#parts = {
      heading: $("#detail-heading"),
      message: $("#detail-message"),
      body: $("#detail-body"),
      image: $("#detail-image"),
      filename: $("#detail-filename"),
      predicted: $("#detail-class"),
      confidence: $("#detail-confidence"),
      trueLabel: $("#detail-true-label"),
      model: $("#detail-model"),
      time: $("#detail-time"),
      bars: $("#detail-bars"),
      form: $("#label-form"),
      select: $("#label-select"),
      note: $("#label-note"),
      save: $("#label-save"),
      formMessage: $("#label-message"),
    };

    $("#detail-close").addEventListener("click", () => dialog.close());
    // A click on the backdrop lands on the <dialog> element itself; inside clicks land on its children.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
    // "close" arrives as a task after close(); by then the dialog may already be reopened.
    dialog.addEventListener("close", () => {
      if (!dialog.open) this.#abort?.abort();
    });
    this.#parts.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
  }

  async open(id) {
    const parts = this.#parts;
    this.#abort?.abort();
    this.#abort = new AbortController();
    this.#current = null;
    parts.heading.textContent = `Prediction ${id}`;
    parts.body.hidden = true;
    parts.formMessage.textContent = "";
    say(parts.message, "Loading…");
    if (!this.#dialog.open) this.#dialog.showModal();

    try {
      const prediction = await getPrediction(id, this.#abort.signal);
      const labels = await this.#loadLabels(prediction.model?.name);
      this.#render(prediction, labels);
      say(parts.message, "");
    } catch (error) {
      if (error?.name === "AbortError") return;
      say(parts.message, error instanceof ApiError ? error.message : String(error), true);
    }
  }

  #render(prediction, labels) {
    const parts = this.#parts;
    this.#current = prediction;
    const predicted = labelOf(labels, prediction.likely_class);

    if (typeof prediction.image === "string" && prediction.image.startsWith("data:")) {
      parts.image.src = prediction.image;
    } else {
      showImage(parts.image, prediction.prediction_id);
    }
    parts.image.alt = `Stored input of prediction ${prediction.prediction_id}`;
    parts.filename.textContent = [prediction.filename, prediction.contenttype].filter(Boolean).join(" · ");
    parts.predicted.textContent = predicted;
    parts.confidence.textContent = percent(prediction.confidence);
    parts.model.textContent = [prediction.model?.name, prediction.model?.version].filter(Boolean).join(" ");
    parts.time.textContent = formatTime(prediction.created_at);
    this.#renderTruth(prediction);
    renderBars(parts.bars, prediction.prediction ?? [], labels, prediction.likely_class);

    // Offer the manifest's labels; when they are unknown, the class indices the output has.
    const choices = labels ?? (prediction.prediction ?? []).map((_, index) => String(index));
    const options = choices.map((choice) => new Option(choice, choice));
    parts.select.replaceChildren(...options);
    parts.select.value = prediction.true_label ?? predicted;
    parts.note.value = prediction.note ?? "";
    parts.body.hidden = false;
  }

  #renderTruth(prediction) {
    const truth = this.#parts.trueLabel;
    if (prediction.true_label == null) {
      truth.textContent = "Not recorded yet";
      truth.className = "muted";
      return;
    }
    truth.textContent = prediction.note ? `${prediction.true_label} (${prediction.note})` : prediction.true_label;
    truth.className = "";
  }

  async #save() {
    const parts = this.#parts;
    const prediction = this.#current;
    if (!prediction) return;
    const label = parts.select.value;
    const note = parts.note.value.trim();
    parts.save.disabled = true;
    say(parts.formMessage, "Saving…");
    try {
      const saved = await recordTrueLabel(prediction.prediction_id, label, note, this.#abort?.signal);
      const merged = { ...prediction, ...saved, true_label: saved?.true_label ?? label, note: saved ? saved.note ?? null : note || null };
      this.#current = merged;
      this.#renderTruth(merged);
      say(parts.formMessage, `Saved: the true label is ${merged.true_label}. Thank you.`, false, true);
      this.#onSaved(merged);
    } catch (error) {
      if (error?.name === "AbortError") return;
      const unsupported = isUnsupported(error);
      say(parts.formMessage, unsupported ? "This server does not record true labels yet. The prediction itself is stored." : saveFailure(error), !unsupported);
    } finally {
      parts.save.disabled = false;
    }
  }
}

// 405/501 mean this server has no feedback endpoint; a bare 404 (no problem detail) means the same.
function isUnsupported(error) {
  return error instanceof ApiError
    && (error.status === 405 || error.status === 501 || (error.status === 404 && !error.fromServer));
}

function saveFailure(error) {
  return error instanceof ApiError ? `The label was not saved. ${error.message}` : String(error);
}

function say(element, text, isError = false, isSuccess = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
  element.classList.toggle("success", isSuccess);
  // On a phone the dialog scrolls; keep the answer to the user's action in sight.
  if (text) element.scrollIntoView({ block: "nearest" });
}
