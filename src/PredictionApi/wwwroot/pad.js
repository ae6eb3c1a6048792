// The drawing pad: dark ink on white paper, as people write. Pointer events give one code path
// for mouse, touch and pen; the service's preprocessing turns the drawing into what the model expects.

const paper = "#ffffff";
const ink = "#111418";

export class DrawingPad {
  #canvas;
  #context;
  #onChange;
  #strokes = 0;
  #active = null;
  #last = null;

  constructor(canvas, onChange) {
    this.#canvas = canvas;
    this.#context = canvas.getContext("2d");
    this.#onChange = onChange;
    this.clear({ silent: true });

    canvas.addEventListener("pointerdown", (event) => this.#start(event));
    canvas.addEventListener("pointermove", (event) => this.#move(event));
    canvas.addEventListener("pointerup", (event) => this.#end(event));
    canvas.addEventListener("pointercancel", (event) => this.#end(event));
    // Touch scrolling is disabled in CSS (touch-action: none); this stops long-press menus too.
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  /** True until the first stroke (or picture) lands on the paper. */
  get isEmpty() {
    return this.#strokes === 0;
  }

  clear({ silent = false } = {}) {
    const context = this.#context;
    context.save();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = paper;
    context.fillRect(0, 0, this.#canvas.width, this.#canvas.height);
    context.restore();
    this.#strokes = 0;
    if (!silent) this.#onChange({ kind: "clear" });
  }

  /** Shows a decoded picture on the paper, letterboxed, so the user sees what they uploaded. */
  showPicture(bitmap) {
    this.clear({ silent: true });
    const { width, height } = this.#canvas;
    const scale = Math.min(width / bitmap.width, height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    this.#context.imageSmoothingQuality = "high";
    this.#context.drawImage(bitmap, (width - w) / 2, (height - h) / 2, w, h);
    this.#strokes = 1;
  }

  /** The paper as a PNG, the format every image decoder reads without loss. */
  toBlob() {
    return new Promise((resolve, reject) => {
      this.#canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The drawing could not be encoded."))), "image/png");
    });
  }

  #point(event) {
    const box = this.#canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.#canvas.width,
      y: ((event.clientY - box.top) / box.height) * this.#canvas.height,
    };
  }

  #start(event) {
    if (event.button !== 0 || this.#active !== null) return;
    event.preventDefault();
    this.#canvas.setPointerCapture(event.pointerId);
    this.#active = event.pointerId;
    this.#last = this.#point(event);
    // A single tap leaves a dot, as a pen would.
    const context = this.#context;
    context.fillStyle = ink;
    context.beginPath();
    context.arc(this.#last.x, this.#last.y, this.#lineWidth(event) / 2, 0, Math.PI * 2);
    context.fill();
    this.#strokes += 1;
    this.#onChange({ kind: "stroke" });
  }

  #move(event) {
    if (event.pointerId !== this.#active) return;
    // Coalesced events keep fast strokes smooth when the browser batches pointer moves.
    const events = event.getCoalescedEvents?.() ?? [];
    for (const each of events.length > 0 ? events : [event]) this.#segment(each);
  }

  #segment(event) {
    const next = this.#point(event);
    const context = this.#context;
    context.strokeStyle = ink;
    context.lineWidth = this.#lineWidth(event);
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(this.#last.x, this.#last.y);
    context.lineTo(next.x, next.y);
    context.stroke();
    this.#last = next;
  }

  #end(event) {
    if (event.pointerId !== this.#active) return;
    this.#active = null;
    this.#last = null;
  }

  // About a twelfth of the pad: close to the stroke-to-digit ratio of MNIST once the service
  // crops the drawing to its ink. Pens vary it a little with pressure.
  #lineWidth(event) {
    const base = this.#canvas.width / 12;
    if (event.pointerType !== "pen" || !event.pressure) return base;
    return base * (0.7 + 0.6 * event.pressure);
  }
}
