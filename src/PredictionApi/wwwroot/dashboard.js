// The dashboard: one model's predictions over time, its confidence histogram and confusion matrix
// (GET /predictions/stats/series and /predictions/stats), and two models compared on the same inputs
// (GET /models/compare). Every chart has an empty state that says what would fill it.

import { ApiError, compareModels, getSeries, getStats, imageUrl } from "./api.js";
import { percent } from "./charts.js";
import { heatmap, histogram, legend, rateBars, stackedBars } from "./plots.js";

const hour = 3600 * 1000;
const day = 24 * hour;
const ranges = {
  "24h": { bucket: "hour", buckets: 24 },
  "7d": { bucket: "hour", buckets: 7 * 24 },
  "30d": { bucket: "day", buckets: 30 },
  "365d": { bucket: "day", buckets: 365 },
};
const stripSize = 24;
// Beyond this many classes the heatmap keeps only the rows and columns that hold something.
const fullMatrixClasses = 12;

const hourFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const hourTick = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const numberFormat = new Intl.NumberFormat();

export class Dashboard {
  #parts;
  #model = null;
  #models = [];
  #abort = null;
  #compareAbort = null;
  #from = null;
  #nextCursor = null;
  #visible = false;
  #stale = true;

  constructor(root) {
    const $ = (selector) => root.querySelector(selector);
    this.#parts = {
      model: $("#dash-model"),
      range: $("#range"),
      refresh: $("#dash-refresh"),
      seriesChart: $("#series-chart"),
      seriesLegend: $("#series-legend"),
      seriesMessage: $("#series-message"),
      histogramChart: $("#histogram-chart"),
      histogramMessage: $("#histogram-message"),
      confusionChart: $("#confusion-chart"),
      confusionSummary: $("#confusion-summary"),
      confusionMessage: $("#confusion-message"),
      baseline: $("#baseline"),
      candidate: $("#candidate"),
      compareMessage: $("#compare-message"),
      compareBody: $("#compare-body"),
      agreement: $("#compare-agreement"),
      accuracy: $("#compare-accuracy"),
      classes: $("#compare-classes"),
      strip: $("#strip"),
      stripMessage: $("#strip-message"),
      stripMore: $("#strip-more"),
    };
    const parts = this.#parts;
    parts.range.addEventListener("change", () => this.refresh());
    parts.refresh.addEventListener("click", () => this.refresh());
    parts.baseline.addEventListener("change", () => this.#compare());
    parts.candidate.addEventListener("change", () => this.#compare());
    parts.stripMore.addEventListener("click", () => this.#compare({ more: true }));
  }

  /** The served models (GET /models), for the comparison's two choices. */
  setModels(models) {
    this.#models = models;
    this.#fillSides();
  }

  /** Shows the dashboard of another model; it loads when the dashboard is visible. */
  show(modelName) {
    if (modelName === this.#model) return;
    this.#model = modelName;
    this.#parts.model.textContent = modelName ?? "";
    this.#fillSides();
    this.#stale = true;
    if (this.#visible) this.refresh();
  }

  setVisible(visible) {
    const shown = visible && !this.#visible;
    this.#visible = visible;
    if (shown && this.#stale) this.refresh();
  }

  /** New predictions were stored: the next look at the dashboard loads it again. */
  stale() {
    this.#stale = true;
    if (this.#visible) this.refresh();
  }

  async refresh() {
    if (!this.#model) return;
    this.#stale = false;
    this.#abort?.abort();
    const controller = new AbortController();
    this.#abort = controller;
    const { bucket, buckets } = ranges[this.#parts.range.value] ?? ranges["24h"];
    // Whole buckets, so the series, the statistics and the comparison cover exactly the same predictions.
    const unit = bucket === "day" ? day : hour;
    const from = new Date((Math.floor(Date.now() / unit) - (buckets - 1)) * unit).toISOString();
    this.#from = from;
    const model = this.#model;
    for (const [message, text] of [
      [this.#parts.seriesMessage, "Loading…"], [this.#parts.histogramMessage, "Loading…"], [this.#parts.confusionMessage, "Loading…"],
    ]) say(message, text);

    await Promise.all([
      this.#loadSeries({ model, from, bucket }, controller.signal),
      this.#loadStats({ model, from }, controller.signal),
      this.#compare(),
    ]);
  }

  async #loadSeries(query, signal) {
    const parts = this.#parts;
    try {
      const series = await getSeries(query, signal);
      const buckets = series.buckets ?? [];
      const labels = series.labels ?? [];
      if ((series.total ?? 0) === 0) {
        parts.seriesChart.replaceChildren();
        parts.seriesLegend.replaceChildren();
        say(parts.seriesMessage, `No predictions by ${series.model} in this range. Predictions appear here as they are made.`);
        return;
      }
      const byDay = series.bucket === "day";
      const stride = Math.ceil(buckets.length / 7);
      const plot = stackedBars({
        buckets,
        labels,
        formatBucket: (iso) => (byDay ? dayFormat : hourFormat).format(new Date(iso)),
        tickText: (iso, index) => {
          if ((buckets.length - 1 - index) % stride !== 0) return null;
          const date = new Date(iso);
          return byDay ? dayFormat.format(date) : stride >= 24 ? hourFormat.format(date) : hourTick.format(date);
        },
        axisTitle: byDay ? "Day (UTC)" : "Hour (your time)",
      });
      parts.seriesChart.replaceChildren(plot);
      // Where the chart scrolls (a phone), show the newest hours first.
      parts.seriesChart.scrollLeft = parts.seriesChart.scrollWidth;
      const used = labels.map((label, index) => ({ index, label })).filter(({ index }) => buckets.some((b) => b.counts[index] > 0));
      parts.seriesLegend.replaceChildren(legend(used));
      say(parts.seriesMessage, "");
    } catch (error) {
      if (error?.name === "AbortError") return;
      parts.seriesChart.replaceChildren();
      parts.seriesLegend.replaceChildren();
      say(parts.seriesMessage, failure("the predictions over time", error), true);
    }
  }

  async #loadStats(query, signal) {
    const parts = this.#parts;
    try {
      const stats = await getStats(query, signal);
      if ((stats.total ?? 0) === 0) {
        parts.histogramChart.replaceChildren();
        say(parts.histogramMessage, "No predictions in this range, so no confidences to show yet.");
      } else {
        parts.histogramChart.replaceChildren(histogram(stats.confidence_histogram ?? []));
        say(parts.histogramMessage, "");
      }

      const feedback = stats.feedback ?? {};
      const matrix = feedback.confusion_matrix;
      if (!matrix || !feedback.labeled) {
        parts.confusionChart.replaceChildren();
        parts.confusionSummary.textContent = "";
        say(parts.confusionMessage, "No true labels recorded yet for this model in this range. Open a stored prediction and record its true label to see where the model is right and wrong.");
        return;
      }
      parts.confusionChart.replaceChildren(heatmap(trimMatrix(matrix)));
      parts.confusionSummary.textContent =
        `${percent(feedback.accuracy)} right on ${numberFormat.format(feedback.labeled)} predictions with a true label (${numberFormat.format(feedback.correct)} correct).`;
      say(parts.confusionMessage, "");
    } catch (error) {
      if (error?.name === "AbortError") return;
      parts.histogramChart.replaceChildren();
      parts.confusionChart.replaceChildren();
      parts.confusionSummary.textContent = "";
      say(parts.histogramMessage, failure("the statistics", error), true);
      say(parts.confusionMessage, "");
    }
  }

  // Baseline and candidate: each model (every version) and, for a model with several versions, each version.
  #fillSides() {
    const parts = this.#parts;
    const choices = [];
    for (const model of this.#models) {
      const versions = (model.versions ?? []).map((v) => v.version).filter(Boolean);
      const ready = model.state === "ready";
      choices.push({ value: model.name, text: versions.length > 1 ? `${model.name} (every version)` : model.name, model: model.name, ready });
      if (versions.length > 1) {
        for (const version of versions) choices.push({ value: `${model.name}:${version}`, text: `${model.name} ${version}`, model: model.name, ready });
      }
    }
    const previous = parts.candidate.value;
    for (const select of [parts.baseline, parts.candidate]) {
      select.replaceChildren(...choices.map((choice) => new Option(choice.text, choice.value)));
    }
    // The baseline is the model the page is on; the candidate stays what it was when it is another model, else it is
    // the first other model being served (a failed or unloaded one may still have stored predictions to compare).
    parts.baseline.value = (choices.find((c) => c.value === this.#model) ?? choices[0])?.value ?? "";
    const baselineModel = choices.find((c) => c.value === parts.baseline.value)?.model;
    const candidate = choices.find((c) => c.value === previous && c.model !== baselineModel)
      ?? choices.find((c) => c.model !== baselineModel && c.ready)
      ?? choices.find((c) => c.model !== baselineModel);
    parts.candidate.value = candidate?.value ?? "";
  }

  async #compare({ more = false } = {}) {
    const parts = this.#parts;
    const baseline = parts.baseline.value;
    const candidate = parts.candidate.value;
    if (!more) {
      this.#nextCursor = null;
      parts.strip.replaceChildren();
    }
    parts.stripMore.hidden = true;
    if (!baseline || !candidate || baseline === candidate) {
      parts.compareBody.hidden = true;
      say(parts.compareMessage, "Pick two different models (or two versions of one) to compare them on the inputs both classified.");
      return;
    }
    this.#compareAbort?.abort();
    const controller = new AbortController();
    this.#compareAbort = controller;
    say(parts.compareMessage, more ? "" : "Comparing…");
    try {
      const comparison = await compareModels(
        { baseline, candidate, from: this.#from, limit: stripSize, cursor: more ? this.#nextCursor : undefined },
        controller.signal,
      );
      if (controller.signal.aborted) return;
      this.#nextCursor = comparison.next_cursor ?? null;
      if (!more) this.#renderComparison(comparison, baseline, candidate);
      this.#appendStrip(comparison.disagreements ?? [], baseline, candidate);
      parts.stripMore.hidden = this.#nextCursor === null;
    } catch (error) {
      if (error?.name === "AbortError") return;
      parts.compareBody.hidden = true;
      // Before GET /models/compare existed, /models/compare read as a model named "compare".
      const missing = error instanceof ApiError && (error.status === 404 || error.status === 405);
      say(parts.compareMessage, missing
        ? "This service cannot compare models yet: it has no GET /models/compare."
        : failure("the comparison", error), !missing);
    }
  }

  #renderComparison(comparison, baseline, candidate) {
    const parts = this.#parts;
    if (!comparison.inputs) {
      parts.compareBody.hidden = true;
      say(parts.compareMessage, `${baseline} and ${candidate} have not classified the same inputs in this range. Make ${candidate} a shadow of ${baseline} (model.json "shadows") and every input gets both answers.`);
      return;
    }
    say(parts.compareMessage, "");
    const disagreed = comparison.inputs - comparison.agreed;
    parts.agreement.replaceChildren(rateBars([
      { label: "Agree", rate: comparison.agreement_rate, kind: "agree",
        text: `${percent(comparison.agreement_rate)} · ${numberFormat.format(comparison.agreed)} of ${numberFormat.format(comparison.inputs)} inputs`,
        data: { agreed: String(comparison.agreed), inputs: String(comparison.inputs) } },
      { label: "Disagree", rate: 1 - comparison.agreement_rate, kind: "disagree",
        text: `${percent(1 - comparison.agreement_rate)} · ${numberFormat.format(disagreed)} inputs`,
        data: { disagreed: String(disagreed) } },
    ]));

    const accuracy = comparison.accuracy ?? {};
    parts.accuracy.replaceChildren(accuracy.labeled
      ? rateBars([
        { label: baseline, rate: accuracy.baseline_accuracy, kind: "baseline",
          text: `${percent(accuracy.baseline_accuracy)} · ${numberFormat.format(accuracy.baseline_correct)} of ${numberFormat.format(accuracy.labeled)}`,
          data: { side: "baseline", correct: String(accuracy.baseline_correct), labeled: String(accuracy.labeled) } },
        { label: candidate, rate: accuracy.candidate_accuracy, kind: "candidate",
          text: `${percent(accuracy.candidate_accuracy)} · ${numberFormat.format(accuracy.candidate_correct)} of ${numberFormat.format(accuracy.labeled)}`,
          data: { side: "candidate", correct: String(accuracy.candidate_correct), labeled: String(accuracy.labeled) } },
      ])
      : note("No true labels recorded yet on the inputs both classified, so neither accuracy is known."));

    const classes = (comparison.classes ?? []).filter((c) => c.inputs > 0);
    parts.classes.replaceChildren(rateBars(classes.map((c) => ({
      label: c.label,
      rate: c.agreement_rate,
      text: `${percent(c.agreement_rate)} · ${numberFormat.format(c.agreed)} of ${numberFormat.format(c.inputs)}`,
      data: { class: String(c.class), inputs: String(c.inputs), agreed: String(c.agreed) },
    }))));
    parts.compareBody.hidden = false;
  }

  #appendStrip(disagreements, baseline, candidate) {
    const parts = this.#parts;
    const items = disagreements.map((d) => {
      const item = document.createElement("li");
      item.dataset.input = String(d.input_id);
      item.dataset.baselineId = String(d.baseline.prediction_id);
      item.dataset.candidateId = String(d.candidate.prediction_id);
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      // The page's own relative URL, so the dashboard also works under a path prefix.
      image.src = imageUrl(d.baseline.prediction_id);
      image.alt = `Input ${d.input_id}: ${baseline} said ${d.baseline.label}, ${candidate} said ${d.candidate.label}`;
      image.width = 72;
      image.height = 72;
      image.loading = "lazy";
      image.addEventListener("error", () => image.classList.add("broken"), { once: true });
      const caption = document.createElement("figcaption");
      const a = answer("baseline", d.baseline.label, d.true_label);
      const b = answer("candidate", d.candidate.label, d.true_label);
      caption.append(a, b);
      if (d.true_label != null) {
        const truth = document.createElement("span");
        truth.className = "strip-truth";
        truth.textContent = `true ${d.true_label}`;
        caption.append(truth);
      }
      figure.append(image, caption);
      item.append(figure);
      item.title = `${baseline}: ${d.baseline.label} (${percent(d.baseline.confidence)}) · ${candidate}: ${d.candidate.label} (${percent(d.candidate.confidence)})`;
      return item;
    });
    parts.strip.append(...items);
    say(parts.stripMessage, parts.strip.children.length === 0 ? "They agree on every input in this range." : "");
  }
}

function answer(side, label, truth) {
  const span = document.createElement("span");
  const verdict = truth == null ? "" : truth === label ? " right" : " wrong";
  span.className = `strip-answer ${side}${verdict}`;
  span.textContent = label;
  return span;
}

/** Keeps the rows and columns that hold a count when a matrix has too many classes to read. */
function trimMatrix({ labels, counts }) {
  if (labels.length <= fullMatrixClasses) return { labels, counts };
  const keep = labels.map((_, i) => counts[i].some((c) => c > 0) || counts.some((row) => row[i] > 0));
  const indices = labels.map((_, i) => i).filter((i) => keep[i]);
  return { labels: indices.map((i) => labels[i]), counts: indices.map((r) => indices.map((c) => counts[r][c])) };
}

function note(text) {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

function failure(what, error) {
  return error instanceof ApiError ? `Could not load ${what}. ${error.message}` : `Could not load ${what}: ${error.message}`;
}

function say(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
}
