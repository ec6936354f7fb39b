// Keyboard shortcuts for the queue and the order page, listed in the dialog that "?"
// opens (templates/generic/partials/shortcuts.html). They wait while the user types in
// a field, and never fire with Ctrl, Alt or Meta held, so the browser's own keys win.
(() => {
  const ROWS = '#results tbody tr[id^="order-row-"]';
  const CURRENT = "kbd-current";
  const SEQUENCE_MS = 1500;
  let pendingG = 0; // when "g" was pressed, waiting for "o" or "d"
  let currentRowId = null; // the marked queue row, kept across htmx swaps by its id
  let openedFrom = null; // what had the focus before the dialog opened

  const dialog = () => document.getElementById("shortcuts");

  function isTyping(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    const tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  // Enter belongs to links, buttons and the like when they have the focus.
  function ownsEnter(element) {
    return !!element && !!element.closest("a[href], button, summary, [role=button]");
  }

  function say(text) {
    const region = document.getElementById("shortcut-says");
    if (!region) return;
    region.textContent = text;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => {
      region.textContent = "";
    }, 8000);
  }

  // The help dialog.
  function openHelp() {
    const box = dialog();
    if (!box || box.open) return;
    openedFrom = document.activeElement;
    box.showModal();
    box.querySelector("[data-shortcuts-close]")?.focus();
  }

  function closeHelp() {
    const box = dialog();
    if (box && box.open) box.close();
  }

  document.addEventListener("close", (event) => {
    if (event.target !== dialog()) return;
    if (openedFrom && document.contains(openedFrom)) openedFrom.focus();
    openedFrom = null;
  }, true);

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-shortcuts-open]")) openHelp();
    else if (event.target.closest("[data-shortcuts-close]")) closeHelp();
    else if (event.target === dialog()) closeHelp(); // a click on the backdrop
  });

  // The queue: a marked row that j/k move.
  function rows() {
    return [...document.querySelectorAll(ROWS)];
  }

  function currentRow() {
    return currentRowId ? document.getElementById(currentRowId) : null;
  }

  function mark(row) {
    for (const old of document.querySelectorAll(`tr.${CURRENT}`)) {
      old.classList.remove(CURRENT);
      old.removeAttribute("aria-current");
    }
    currentRowId = row ? row.id : null;
    if (!row) return;
    row.classList.add(CURRENT);
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return false;
    const at = all.indexOf(currentRow());
    const next = at === -1 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    mark(all[next]);
    return true;
  }

  function openMarked() {
    const link = currentRow()?.querySelector("th a[href]");
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function toggleMarked() {
    const box = currentRow()?.querySelector('input[type="checkbox"][name="orders"]');
    if (!box) return false;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  // New results (a filter, a page, a bulk action's rows): the same order stays marked
  // if it is still listed; otherwise nothing is.
  document.addEventListener("htmx:afterSettle", () => {
    const row = currentRow();
    mark(row && row.matches(ROWS) ? row : null);
  });

  // The order page.
  function approve() {
    const button = document.querySelector('button[data-shortcut="approve"]');
    if (!button) {
      say("Approve is not offered for this order.");
      return true;
    }
    if (button.disabled) {
      const why = document.getElementById(button.getAttribute("aria-describedby"));
      say(`Approve is not available: ${why ? why.textContent.trim() : "not allowed now."}`);
      button.scrollIntoView({ block: "nearest" });
      return true;
    }
    button.click();
    return true;
  }

  function editLines() {
    const link = document.querySelector('a[data-shortcut="edit-lines"]');
    if (!link) {
      say("Edit lines is not offered for this order.");
      return true;
    }
    link.click();
    return true;
  }

  function focusNote() {
    const box = document.querySelector("#notes textarea");
    if (!box) return false;
    box.focus();
    box.scrollIntoView({ block: "nearest" });
    return true;
  }

  function backToQueue() {
    const queue = dialog()?.dataset.queueUrl;
    if (!queue) return false;
    let from = null;
    try {
      from = document.referrer ? new URL(document.referrer) : null;
    } catch {
      from = null;
    }
    const fromQueue = from && from.origin === window.location.origin && from.pathname === queue;
    if (fromQueue && window.history.length > 1) window.history.back();
    else window.location.assign(lastQueue(queue) || queue);
    return true;
  }

  // The queue as last seen in this tab, filters and all: "u" returns there even after
  // an action on the order page reloaded it.
  const LAST_QUEUE = "oms.lastQueue";

  function lastQueue(queue) {
    try {
      const url = new URL(window.sessionStorage.getItem(LAST_QUEUE) || "", window.location.href);
      return url.origin === window.location.origin && url.pathname === queue ? url.href : null;
    } catch {
      return null;
    }
  }

  function rememberQueue() {
    const queue = dialog()?.dataset.queueUrl;
    if (!queue || window.location.pathname !== queue) return;
    try {
      window.sessionStorage.setItem(LAST_QUEUE, window.location.href);
    } catch {
      // storage refused (private mode): "u" opens the queue without its filters
    }
  }

  document.addEventListener("DOMContentLoaded", rememberQueue);
  document.addEventListener("htmx:pushedIntoHistory", rememberQueue);

  function go(where) {
    const url = dialog()?.dataset[where];
    if (!url) return false;
    window.location.assign(url);
    return true;
  }

  const onQueue = () => !!document.querySelector("#results") && !!document.getElementById("filters");
  const onOrder = () => !!document.getElementById("notes") || !!document.querySelector('section.actions [data-shortcut]');

  function handle(event) {
    const key = event.key;
    const active = document.activeElement;

    if (key === "?") {
      const box = dialog();
      if (!box) return false;
      if (box.open) closeHelp();
      else openHelp();
      return true;
    }
    if (dialog()?.open) return false; // the dialog's own keys: Tab, Escape, Enter

    if (pendingG && Date.now() - pendingG < SEQUENCE_MS) {
      pendingG = 0;
      if (key === "o") return go("queueUrl");
      if (key === "d") return go("homeUrl");
    }
    pendingG = 0;
    if (key === "g") {
      pendingG = Date.now();
      return true;
    }

    if (onQueue()) {
      const tableHasFocus = active && active.matches("#results .table-scroll");
      if (key === "j" || (key === "ArrowDown" && tableHasFocus)) return move(1);
      if (key === "k" || (key === "ArrowUp" && tableHasFocus)) return move(-1);
      if (key === "o" || (key === "Enter" && !ownsEnter(active))) return openMarked();
      if (key === "x") return toggleMarked();
      if (key === "/") {
        const search = document.getElementById("id_q");
        if (!search) return false;
        search.focus();
        search.select();
        return true;
      }
    }
    if (onOrder()) {
      if (key === "a") return approve();
      if (key === "e") return editLines();
      if (key === "n") return focusNote();
      if (key === "u") return backToQueue();
    }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (isTyping(event.target) || isTyping(document.activeElement)) return;
    if (handle(event)) event.preventDefault();
  });
})();
