// The gallery of stored predictions: newest first, paged with the API's opaque cursor,
// filtered by model and by predicted class. "Load more" works by click, and by scrolling it into view.

import { ApiError, listPredictions, showImage } from "./api.js";
import { formatTime, labelOf, percent } from "./charts.js";

const pageSize = 24;

export class Gallery {
  #list;
  #more;
  #message;
  #onOpen;
  #labelsOf;
  #cursor = null;
  #likelyClass = "";
  #model = "";
  #pending = null;
  #abort = null;
  #highlight = null;
  #observer;

  /**
   * @param {{ list: HTMLUListElement, more: HTMLButtonElement, message: HTMLElement,
   *           onOpen: (id: number, opener: HTMLElement) => void,
   *           labelsOf: (modelName: string) => string[] | null }} parts
   */
  constructor({ list, more, message, onOpen, labelsOf }) {
    this.#list = list;
    this.#more = more;
    this.#message = message;
    this.#onOpen = onOpen;
    this.#labelsOf = labelsOf;

    more.addEventListener("click", () => this.loadMore());
    list.addEventListener("click", (event) => {
      const card = event.target.closest("button[data-id]");
      if (card) this.#onOpen(Number(card.dataset.id), card);
    });
    this.#observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting) && !this.#more.hidden) this.loadMore();
      },
      { rootMargin: "240px 0px" },
    );
  }

  /** Starts again from the newest prediction, optionally with a new model or class filter ("" = all). */
  reset({ likelyClass = this.#likelyClass, model = this.#model, highlight = null } = {}) {
    this.#abort?.abort();
    this.#pending = null;
    this.#likelyClass = likelyClass;
    this.#model = model ?? "";
    this.#highlight = highlight;
    this.#cursor = null;
    this.#list.replaceChildren();
    this.#more.hidden = true;
    return this.loadMore();
  }

  loadMore() {
    if (!this.#pending) {
      const pending = this.#loadPage().finally(() => {
        if (this.#pending === pending) this.#pending = null;
      });
      this.#pending = pending;
    }
    return this.#pending;
  }

  /** Redraws one card after its prediction changed (for example when a true label was saved). */
  update(prediction) {
    const card = this.#list.querySelector(`button[data-id="${prediction.prediction_id}"]`);
    card?.closest("li").replaceWith(this.#item(prediction));
  }

  /** Re-labels cards once a model's class names are known. */
  relabel() {
    for (const card of this.#list.querySelectorAll("button[data-id]")) {
      const labels = this.#labelsOf(card.dataset.model);
      card.querySelector(".card-class").textContent = labelOf(labels, Number(card.dataset.class));
    }
  }

  async #loadPage() {
    const first = this.#cursor === null;
    const controller = new AbortController();
    this.#abort = controller;
    this.#more.disabled = true;
    this.#more.textContent = "Loading…";
    this.#list.setAttribute("aria-busy", "true");
    if (first) this.#say("Loading stored predictions…");
    try {
      const page = await listPredictions(
        { limit: pageSize, cursor: this.#cursor, likelyClass: this.#likelyClass, model: this.#model },
        controller.signal,
      );
      if (controller.signal.aborted) return;
      const items = Array.isArray(page?.items) ? page.items : [];
      this.#list.append(...items.map((item) => this.#item(item)));
      this.#cursor = page?.next_cursor ?? null;
      this.#more.hidden = this.#cursor === null;
      this.#say(this.#list.children.length === 0 ? this.#emptyText() : "");
      // Re-observing reports the button's current position, so a page that does not fill the
      // screen keeps loading until it does (or until the cursor runs out).
      this.#observer.unobserve(this.#more);
      if (!this.#more.hidden) this.#observer.observe(this.#more);
    } catch (error) {
      if (error?.name === "AbortError") return;
      this.#say(error instanceof ApiError ? `Could not load stored predictions. ${error.message}` : String(error), true);
    } finally {
      // A reset may have started a newer load; only the newest one owns the buttons.
      if (this.#abort === controller) {
        this.#more.disabled = false;
        this.#more.textContent = "Load more";
        this.#list.setAttribute("aria-busy", "false");
      }
    }
  }

  #emptyText() {
    if (this.#likelyClass !== "") return "No stored prediction has that predicted class yet.";
    return this.#model === ""
      ? "Nothing is stored yet. Draw a digit or upload an image and press Predict."
      : `Nothing is stored for ${this.#model} yet. Try it above.`;
  }

  #say(text, isError = false) {
    this.#message.textContent = text;
    this.#message.classList.toggle("error", isError);
  }

  #item(prediction) {
    const id = prediction.prediction_id;
    const model = prediction.model?.name ?? "";
    const labels = this.#labelsOf(model);
    const predicted = labelOf(labels, prediction.likely_class);
    const confidence = percent(prediction.confidence);
    const when = formatTime(prediction.created_at);

    const card = document.createElement("button");
    card.type = "button";
    card.className = "card";
    card.dataset.id = String(id);
    card.dataset.class = String(prediction.likely_class);
    card.dataset.model = model;
    card.setAttribute(
      "aria-label",
      `Prediction ${id}: ${predicted}, ${confidence} confident, stored ${when}. Open details.`,
    );

    const image = document.createElement("img");
    image.alt = "";
    image.loading = "lazy";
    image.decoding = "async";
    image.width = 112;
    image.height = 112;
    image.addEventListener("error", () => image.classList.add("broken"), { once: true });
    showImage(image, id);

    const predictedText = document.createElement("span");
    predictedText.className = "card-class";
    predictedText.textContent = predicted;

    const confidenceText = document.createElement("span");
    confidenceText.className = "card-confidence";
    confidenceText.textContent = confidence;

    const time = document.createElement("time");
    time.className = "card-time";
    time.dateTime = prediction.created_at ?? "";
    time.textContent = formatTime(prediction.created_at, { short: true });
    time.title = when;

    card.append(image, predictedText, confidenceText, time);
    if (prediction.true_label != null) {
      const truth = document.createElement("span");
      const right = prediction.true_label === predicted;
      truth.className = right ? "card-truth right" : "card-truth wrong";
      truth.textContent = right ? "✓ correct" : `true: ${prediction.true_label}`;
      card.append(truth);
    }

    const item = document.createElement("li");
    if (id === this.#highlight) item.className = "fresh";
    item.append(card);
    return item;
  }
}
