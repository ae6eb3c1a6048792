// Rendering functions shared by the result panel, the gallery and the detail dialog.

const percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const shortTimeFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

export function percent(value) {
  return percentFormat.format(Number.isFinite(value) ? value : 0);
}

export function formatTime(iso, { short = false } = {}) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (short ? shortTimeFormat : timeFormat).format(date);
}

/** The class name for an index: the manifest's label when known, else the index itself. */
export function labelOf(labels, index) {
  return labels?.[index] ?? String(index);
}

/**
 * Fills an <ol> with one row per class: name, a bar whose length is the probability, and the
 * percentage as text, so screen readers hear "7, 93.1 %" without needing the picture.
 */
export function renderBars(list, probabilities, labels, likely) {
  const rows = probabilities.map((probability, index) => {
    const row = document.createElement("li");
    row.className = index === likely ? "bar likely" : "bar";
    row.dataset.class = String(index);

    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = labelOf(labels, index);

    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${Math.max(0, Math.min(1, probability)) * 100}%`;
    track.append(fill);

    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(probability);

    row.append(name, track, value);
    return row;
  });
  list.replaceChildren(...rows);
}

/**
 * Draws the tensor exactly as it was fed to the model, one canvas pixel per tensor element;
 * CSS scales it up with nearest-neighbour so each input pixel stays a crisp square.
 * Returns { width, height, channels } for the caption.
 */
export function drawTensor(canvas, tensor) {
  const { layout, shape, data } = tensor;
  const channelsFirst = layout !== "NHWC";
  const [, a, b, c] = shape;
  const channels = channelsFirst ? a : c;
  const height = channelsFirst ? b : a;
  const width = channelsFirst ? c : b;

  const toByte = byteScale(data);
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const target = (y * width + x) * 4;
      for (let rgb = 0; rgb < 3; rgb += 1) {
        const channel = channels >= 3 ? rgb : 0;
        const index = channelsFirst
          ? (channel * height + y) * width + x
          : (y * width + x) * channels + channel;
        image.data[target + rgb] = toByte(data[index]);
      }
      image.data[target + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return { width, height, channels };
}

// Unit (0..1) and raw (0..255) scaling are shown as they are; anything else (mean/std) is
// stretched to the visible range so the picture is still readable.
function byteScale(data) {
  let min = Infinity;
  let max = -Infinity;
  for (const value of data) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min >= 0 && max <= 1) return (value) => Math.round(value * 255);
  if (min >= 0 && max <= 255) return (value) => Math.round(value);
  const span = max - min || 1;
  return (value) => Math.round(((value - min) / span) * 255);
}
