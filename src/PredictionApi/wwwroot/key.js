// The form that asks for an API key when the service answers 401. The key stays in this tab's
// sessionStorage (api.js) and goes out as "Authorization: Bearer" on every call.

export class KeyPrompt {
  #dialog;
  #input;
  #reason;
  #resolve = null;

  /** @param {HTMLDialogElement} dialog */
  constructor(dialog) {
    this.#dialog = dialog;
    this.#input = dialog.querySelector("#key-input");
    this.#reason = dialog.querySelector("#key-reason");
    dialog.querySelector("#key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = this.#input.value.trim();
      if (key) this.#finish(key);
    });
    dialog.querySelector("#key-cancel").addEventListener("click", () => this.#finish(null));
    // Escape closes the dialog: the same as Cancel.
    dialog.addEventListener("close", () => this.#finish(null));
  }

  /** Shows the form; resolves to the key typed in, or null when the person cancels. */
  ask(reason) {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#reason.textContent = reason ?? "";
      this.#input.value = "";
      if (!this.#dialog.open) this.#dialog.showModal();
      this.#input.focus();
    });
  }

  #finish(key) {
    const resolve = this.#resolve;
    this.#resolve = null;
    if (this.#dialog.open) this.#dialog.close();
    resolve?.(key);
  }
}
