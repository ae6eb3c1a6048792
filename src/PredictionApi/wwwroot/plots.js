// SVG charts of the dashboard, built element by element (the CSP allows no inline styles, so colours are
// SVG attributes or CSS classes). Every mark carries its numbers as data-* attributes and a <title>, so a
// pointer shows them, a screen reader can reach them and a test can check them against the API.

const ns = "http://www.w3.org/2000/svg";
const numberFormat = new Intl.NumberFormat();
const percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

// Tableau 10: distinct in light and dark themes; further classes get evenly spread hues.
const palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

export function classColour(index) {
  return palette[index] ?? `hsl(${(index * 47) % 360} 55% 55%)`;
}

/** An SVG element with attributes and children (strings become text). */
export function svg(tag, attributes = {}, children = []) {
  const element = document.createElementNS(ns, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children) element.append(child);
  return element;
}

function titled(element, text) {
  element.append(svg("title", {}, [text]));
  return element;
}

/** A round axis maximum (1, 2, 5 × 10^n) and its ticks, so gridlines fall on readable numbers. */
function niceScale(max, ticks = 4) {
  if (max <= 0) return { top: 1, ticks: [0, 1] };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const wholeStep = Math.max(1, step);
  const top = Math.ceil(max / wholeStep) * wholeStep;
  const values = [];
  for (let value = 0; value <= top; value += wholeStep) values.push(value);
  return { top, ticks: values };
}

function chart(width, height, label) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "plot", role: "img", "aria-label": label });
}

/** Y axis with gridlines and its title, for plots whose y is a count. */
function countAxis(plot, { left, top, bottom, width, scale, title }) {
  const height = bottom - top;
  for (const tick of scale.ticks) {
    const y = bottom - (tick / scale.top) * height;
    plot.append(svg("line", { x1: left, x2: width, y1: y, y2: y, class: tick === 0 ? "axis-line" : "grid-line" }));
    plot.append(svg("text", { x: left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, [numberFormat.format(tick)]));
  }
  plot.append(svg("text", { x: 12, y: (top + bottom) / 2, class: "axis-title", "text-anchor": "middle",
    transform: `rotate(-90 12 ${(top + bottom) / 2})` }, [title]));
}

/**
 * Stacked bars, one per time bucket, one segment per class. Returns the <svg>.
 * @param {{ buckets: {start: string, total: number, counts: number[]}[], labels: string[],
 *           formatBucket: (iso: string) => string, tickText: (iso: string, index: number) => string | null,
 *           axisTitle: string }} data
 */
export function stackedBars({ buckets, labels, formatBucket, tickText, axisTitle }) {
  const width = 760;
  const height = 300;
  const left = 56;
  const top = 12;
  const bottom = height - 46;
  const scale = niceScale(Math.max(0, ...buckets.map((b) => b.total)));
  const total = buckets.reduce((sum, b) => sum + b.total, 0);
  const plot = chart(width, height, `Predictions per class over ${buckets.length} time buckets: ${numberFormat.format(total)} in all.`);
  countAxis(plot, { left, top, bottom, width, scale, title: "Predictions" });

  const slot = (width - left - 4) / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.78);
  buckets.forEach((bucket, index) => {
    const x = left + 2 + index * slot + (slot - barWidth) / 2;
    const group = titled(svg("g", { class: "series-bucket", "data-start": bucket.start, "data-total": bucket.total }),
      `${formatBucket(bucket.start)}: ${numberFormat.format(bucket.total)} predictions`);
    let y = bottom;
    bucket.counts.forEach((count, cls) => {
      if (count <= 0) return;
      const h = (count / scale.top) * (bottom - top);
      y -= h;
      group.append(titled(
        svg("rect", { x, y, width: barWidth, height: Math.max(h, 0.5), fill: classColour(cls), "data-class": cls, "data-count": count }),
        `${formatBucket(bucket.start)} · ${labels[cls] ?? cls}: ${numberFormat.format(count)}`));
    });
    plot.append(group);
    const text = tickText(bucket.start, index);
    if (text) {
      plot.append(svg("line", { x1: x + barWidth / 2, x2: x + barWidth / 2, y1: bottom, y2: bottom + 4, class: "axis-line" }));
      plot.append(svg("text", { x: x + barWidth / 2, y: bottom + 17, class: "tick", "text-anchor": "middle" }, [text]));
    }
  });
  plot.append(svg("text", { x: (left + width) / 2, y: height - 6, class: "axis-title", "text-anchor": "middle" }, [axisTitle]));
  return plot;
}

/** The confidence histogram: one bar per bin of the likely class's probability. */
export function histogram(bins) {
  const width = 520;
  const height = 260;
  const left = 56;
  const top = 12;
  const bottom = height - 46;
  const scale = niceScale(Math.max(0, ...bins.map((b) => b.count)));
  const total = bins.reduce((sum, b) => sum + b.count, 0);
  const plot = chart(width, height, `Confidence histogram of ${numberFormat.format(total)} predictions in ${bins.length} bins.`);
  countAxis(plot, { left, top, bottom, width, scale, title: "Predictions" });

  const slot = (width - left - 4) / Math.max(1, bins.length);
  bins.forEach((bin, index) => {
    const x = left + 2 + index * slot;
    const h = (bin.count / scale.top) * (bottom - top);
    const range = `${percentFormat.format(bin.min)}–${percentFormat.format(bin.max)}`;
    plot.append(titled(
      svg("rect", { x: x + slot * 0.08, y: bottom - h, width: slot * 0.84, height: h, class: "hist-bar", "data-bin": index, "data-count": bin.count }),
      `${range} confident: ${numberFormat.format(bin.count)} predictions`));
    plot.append(svg("text", { x: x + slot / 2, y: bottom + 17, class: "tick", "text-anchor": "middle" }, [percentFormat.format(bin.min)]));
  });
  plot.append(svg("text", { x: (left + width) / 2, y: height - 6, class: "axis-title", "text-anchor": "middle" },
    ["Confidence of the likely class (bin start)"]));
  return plot;
}

/**
 * The confusion matrix as a heatmap: rows are true labels, columns predicted classes, and a cell's colour is
 * its share of the row, so each true label reads as "where did its inputs go".
 */
export function heatmap({ labels, counts }) {
  const n = labels.length;
  const cell = n <= 6 ? 52 : n <= 12 ? 40 : 28;
  const left = 92;
  const top = 44;
  const width = left + n * cell + 8;
  const height = top + n * cell + 40;
  const plot = chart(width, height, `Confusion matrix of ${n} classes: rows are true labels, columns predicted classes.`);
  plot.append(svg("text", { x: left + (n * cell) / 2, y: 14, class: "axis-title", "text-anchor": "middle" }, ["Predicted class"]));
  plot.append(svg("text", { x: 14, y: top + (n * cell) / 2, class: "axis-title", "text-anchor": "middle",
    transform: `rotate(-90 14 ${top + (n * cell) / 2})` }, ["True label"]));

  labels.forEach((label, index) => {
    plot.append(svg("text", { x: left + index * cell + cell / 2, y: top - 8, class: "tick", "text-anchor": "middle" }, [short(label)]));
    plot.append(svg("text", { x: left - 8, y: top + index * cell + cell / 2 + 4, class: "tick", "text-anchor": "end" }, [short(label)]));
  });

  counts.forEach((row, truth) => {
    const rowTotal = row.reduce((sum, count) => sum + count, 0);
    row.forEach((count, predicted) => {
      const share = rowTotal === 0 ? 0 : count / rowTotal;
      const x = left + predicted * cell;
      const y = top + truth * cell;
      const kind = count === 0 ? "heat-cell empty" : truth === predicted ? "heat-cell right" : "heat-cell wrong";
      const rect = svg("rect", {
        x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, rx: 3, class: kind,
        "fill-opacity": count === 0 ? 1 : (0.12 + 0.88 * share).toFixed(3),
        "data-true": labels[truth], "data-predicted": labels[predicted], "data-count": count,
      });
      plot.append(titled(rect, `True ${labels[truth]}, predicted ${labels[predicted]}: ${numberFormat.format(count)} of ${numberFormat.format(rowTotal)} (${percentFormat.format(share)})`));
      if (count > 0) {
        plot.append(svg("text", { x: x + cell / 2, y: y + cell / 2 + 4, "text-anchor": "middle",
          class: share > 0.55 ? "heat-text strong" : "heat-text" }, [numberFormat.format(count)]));
      }
    });
  });

  // The scale: what a light and a full cell mean.
  const legendY = top + n * cell + 14;
  const steps = 5;
  for (let i = 0; i < steps; i += 1) {
    plot.append(svg("rect", { x: left + i * 18, y: legendY, width: 16, height: 12, class: "heat-cell right", "fill-opacity": (0.12 + (0.88 * i) / (steps - 1)).toFixed(3) }));
  }
  plot.append(svg("text", { x: left + steps * 18 + 6, y: legendY + 10, class: "tick" }, ["0 → 100 % of the true label's inputs"]));
  return plot;
}

function short(label) {
  return label.length > 10 ? `${label.slice(0, 9)}…` : label;
}

/**
 * Horizontal proportion bars as an HTML list: label, a bar whose length is the rate, and the numbers in words.
 * Widths are set through the CSSOM, which the CSP allows.
 * @param {{ label: string, rate: number | null, text: string, kind?: string, data?: Record<string, string> }[]} rows
 */
export function rateBars(rows) {
  const list = document.createElement("ul");
  list.className = "rate-bars";
  for (const row of rows) {
    const item = document.createElement("li");
    item.className = row.kind ? `rate ${row.kind}` : "rate";
    for (const [name, value] of Object.entries(row.data ?? {})) item.dataset[name] = value;
    const name = document.createElement("span");
    name.className = "rate-label";
    name.textContent = row.label;
    const track = document.createElement("span");
    track.className = "rate-track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "rate-fill";
    fill.style.width = `${Math.max(0, Math.min(1, row.rate ?? 0)) * 100}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "rate-value";
    value.textContent = row.text;
    item.append(name, track, value);
    list.append(item);
  }
  return list;
}

/** A legend of class colours: [{ index, label }], the classes a chart shows. */
export function legend(entries) {
  const list = document.createElement("ul");
  list.className = "legend";
  for (const { index, label } of entries) {
    const item = document.createElement("li");
    item.dataset.class = String(index);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = classColour(index);
    item.append(swatch, label);
    list.append(item);
  }
  return list;
}
