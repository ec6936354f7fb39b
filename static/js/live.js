// Live updates of the order page (#order-live) and the queue (#queue-live): every few
// seconds the page asks its data-live-url whether anything changed, with the ETag it was
// drawn with (If-None-Match). The server answers 304 Not Modified after one small query
// while nothing changed, and the new content when something did.
//
// - The order page draws the new content in place, unless a form on it is open or
//   being typed into: then a banner says who changed what, and the content is drawn when
//   the coordinator asks for it (or once the form is closed untouched). Forms drawn
//   again carry the order's new version.
// - The queue draws its new rows in place, keeping the scroll position, the marked row
//   (j/k) and the focus; it does not ask while rows are checked for a bulk action, while
//   the filters have the focus or while a filter's own request runs.
// - A hidden tab does not ask at all; while nothing changes and nobody touches the page,
//   the page asks less and less often (up to data-live-max ms); failures back off more.
//
// htmx's own polling is not used: its trigger filters need eval, which the
// Content-Security-Policy refuses, and htmx 2 would swap a 304's empty body.
(() => {
  const SLOW_DOWN_AFTER = 12; // unchanged answers at the base interval before slowing down
  const ERROR_MAX_MS = 5 * 60 * 1000;

  function now() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function isTextEntry(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    const tag = element.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !["hidden", "submit", "button", "reset", "image"].includes(element.type));
  }

  // A form control whose value is not the one it was drawn with.
  function isDirty(control) {
    if (control.tagName === "SELECT") {
      return [...control.options].some((option) => option.selected !== option.defaultSelected);
    }
    if (control.type === "checkbox" || control.type === "radio") return control.checked !== control.defaultChecked;
    if (control.type === "hidden" || control.type === "file") return false;
    return "defaultValue" in control && control.value !== control.defaultValue;
  }

  function fragmentRoot(html, id) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.getElementById(id);
  }

  class Poller {
    constructor(root) {
      this.root = root;
      this.id = root.id;
      this.url = root.dataset.liveUrl;
      this.etag = root.dataset.liveEtag || "";
      this.base = Math.max(Number(root.dataset.liveEvery) || 5000, 200);
      this.max = Math.max(Number(root.dataset.liveMax) || 30000, this.base);
      this.delay = this.base;
      this.unchanged = 0;
      this.errors = 0;
      this.timer = null;
      this.running = false;
      this.stopped = false;
      this.pending = null; // content fetched but not drawn (a form was open)
    }

    schedule(ms = this.delay) {
      clearTimeout(this.timer);
      if (this.stopped || document.visibilityState !== "visible") return;
      this.timer = setTimeout(() => this.tick(), ms);
    }

    // Someone uses the page: ask at the base interval again.
    wake(now = false) {
      if (this.stopped) return;
      const slowed = this.delay > this.base;
      this.delay = this.base;
      this.unchanged = 0;
      if (now) this.schedule(0);
      else if (slowed) this.schedule();
    }

    requestUrl() {
      return this.url;
    }

    headers() {
      const headers = { "HX-Request": "true", "X-Live-Poll": "true" };
      if (this.etag) headers["If-None-Match"] = this.etag;
      return headers;
    }

    mayAsk() {
      return true;
    }

    async tick() {
      if (this.running || this.stopped) return;
      if (!this.mayAsk()) {
        this.schedule();
        return;
      }
      this.running = true;
      try {
        const response = await fetch(this.requestUrl(), {
          headers: this.headers(),
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual",
        });
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          this.stop(); // signed out, or no longer allowed: the next navigation says so
          return;
        }
        if (response.status === 304) {
          this.errors = 0;
          this.unchanged += 1;
          if (this.unchanged > SLOW_DOWN_AFTER) this.delay = Math.min(Math.round(this.delay * 1.5), this.max);
          if (this.pending && !this.busy()) this.draw();
        } else if (response.ok) {
          this.errors = 0;
          this.unchanged = 0;
          this.delay = this.base;
          const html = await response.text();
          const etag = response.headers.get("ETag") || "";
          if (this.mayAsk()) this.changed(html, etag);
        } else {
          throw new Error(`status ${response.status}`);
        }
      } catch {
        this.errors += 1;
        this.delay = Math.min(this.base * 2 ** this.errors, ERROR_MAX_MS);
      } finally {
        this.running = false;
        this.schedule();
      }
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
    }

    busy() {
      return false;
    }
  }

  // --- The order page ------------------------------------------------------------------

  class OrderPoller extends Poller {
    constructor(root) {
      super(root);
      this.banner = document.getElementById("live-banner");
      this.banner?.querySelector("[data-live-show]")?.addEventListener("click", () => this.draw(true));
    }

    // The timeline is asked for as its filter shows it.
    requestUrl() {
      const filter = document.querySelector("#timeline form.timeline-filter");
      const query = filter ? new URLSearchParams(new FormData(filter)).toString() : "";
      return query ? `${this.url}?${query}` : this.url;
    }

    current() {
      return document.getElementById(this.id);
    }

    // A form the coordinator opened or typed into is never drawn over.
    busy() {
      const root = this.current();
      if (!root) return true;
      if (root.querySelector("details.reason[open]")) return true;
      for (const form of root.querySelectorAll("form:not(.timeline-filter)")) {
        if ([...form.elements].some(isDirty)) return true;
      }
      const active = document.activeElement;
      return !!active && root.contains(active) && isTextEntry(active) && !active.closest(".timeline-filter");
    }

    changed(html, etag) {
      const fresh = fragmentRoot(html, this.id);
      if (!fresh) return;
      this.pending = { html, etag, summary: fresh.dataset.liveSummary || "" };
      this.etag = etag || fresh.dataset.liveEtag || this.etag;
      if (this.busy()) this.showBanner();
      else this.draw();
    }

    title(text) {
      const title = this.banner?.querySelector("[data-live-title]");
      if (title) title.textContent = text;
    }

    showBanner() {
      if (!this.banner || !this.pending) return;
      const what = this.banner.querySelector("[data-live-what]");
      if (what) what.textContent = this.pending.summary || "see the page's timeline.";
      this.banner.classList.remove("info");
      this.banner.classList.add("warn");
      this.title("This order changed:");
      this.banner.querySelector(".live-banner-actions")?.removeAttribute("hidden");
      this.banner.hidden = false;
    }

    draw(asked = false) {
      const pending = this.pending;
      const root = this.current();
      if (!pending || !root) return;
      this.pending = null;
      const scroll = [window.scrollX, window.scrollY];
      window.htmx.swap(root, pending.html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 });
      window.scrollTo(scroll[0], scroll[1]);
      if (this.banner) {
        const what = this.banner.querySelector("[data-live-what]");
        if (what) what.textContent = pending.summary || "see the timeline.";
        this.banner.classList.remove("warn");
        this.banner.classList.add("info");
        this.title("Updated with a change made elsewhere:");
        this.banner.querySelector(".live-banner-actions")?.setAttribute("hidden", "");
        this.banner.hidden = false;
        if (asked) this.banner.focus?.();
      }
    }
  }

  // --- The queue -------------------------------------------------------------------------

  let requestsRunning = 0; // htmx requests of the page itself (a filter, a page, a bulk action)
  document.addEventListener("htmx:beforeRequest", () => {
    requestsRunning += 1;
  });
  document.addEventListener("htmx:afterRequest", () => {
    requestsRunning = Math.max(requestsRunning - 1, 0);
  });

  class QueuePoller extends Poller {
    constructor(root) {
      super(root);
      // New results drawn by a filter or a page link carry their own ETag.
      document.addEventListener("htmx:afterRequest", (event) => {
        const target = event.detail?.target;
        if (!target || target.id !== "results" || !event.detail.successful) return;
        const etag = event.detail.xhr?.getResponseHeader("ETag");
        if (etag) this.etag = etag;
      });
    }

    requestUrl() {
      return `${this.url}${window.location.search}`;
    }

    mayAsk() {
      if (requestsRunning > 0) return false;
      if (document.querySelector('#results input[name="orders"]:checked')) return false;
      const filters = document.getElementById("filters");
      const active = document.activeElement;
      return !(filters && active && filters.contains(active));
    }

    changed(html, etag) {
      const results = document.getElementById("results");
      if (!results) return;
      if (etag) this.etag = etag;
      const scroll = [window.scrollX, window.scrollY];
      const table = results.querySelector(".table-scroll");
      const tableScroll = table ? [table.scrollLeft, table.scrollTop] : null;
      const active = document.activeElement;
      const focus = active && results.contains(active) ? describe(active) : null;
      const report = document.getElementById("bulk-results")?.innerHTML || "";
      window.htmx.swap(results, html, { swapStyle: "innerHTML", swapDelay: 0, settleDelay: 0 });
      const bulk = document.getElementById("bulk-results");
      if (bulk && report) bulk.innerHTML = report;
      const newTable = results.querySelector(".table-scroll");
      if (newTable && tableScroll) [newTable.scrollLeft, newTable.scrollTop] = tableScroll;
      if (focus) find(results, focus)?.focus({ preventScroll: true });
      window.scrollTo(scroll[0], scroll[1]);
      // The marked row (shortcuts.js) is marked again on htmx:afterSettle, which may
      // scroll it into view; the page stays where the coordinator left it.
      requestAnimationFrame(() => window.scrollTo(scroll[0], scroll[1]));
      const note = document.getElementById("queue-live-note");
      if (note) note.textContent = `Updated at ${now()} with changes made elsewhere.`;
    }
  }

  // What had the focus in the results, to find it again in the new ones.
  function describe(element) {
    if (element.id) return { id: element.id };
    if (element.matches(".table-scroll")) return { selector: ".table-scroll" };
    if (element.name && element.value !== undefined) return { name: element.name, value: element.value };
    if (element.getAttribute("href")) return { href: element.getAttribute("href") };
    return null;
  }

  function find(container, described) {
    if (described.id) return document.getElementById(described.id);
    if (described.selector) return container.querySelector(described.selector);
    const all = [...container.querySelectorAll("[name], a[href]")];
    if (described.name) return all.find((e) => e.name === described.name && e.value === described.value) || null;
    return all.find((e) => e.getAttribute("href") === described.href) || null;
  }

  // --- Start -----------------------------------------------------------------------------

  function start() {
    const pollers = [];
    const order = document.getElementById("order-live");
    if (order?.dataset.liveUrl) pollers.push(new OrderPoller(order));
    const queue = document.getElementById("queue-live");
    if (queue?.dataset.liveUrl) pollers.push(new QueuePoller(queue));
    if (!pollers.length || !window.htmx) return;
    for (const poller of pollers) poller.schedule();
    document.addEventListener("visibilitychange", () => {
      for (const poller of pollers) {
        if (document.visibilityState === "visible") poller.wake(true);
        else clearTimeout(poller.timer);
      }
    });
    for (const type of ["keydown", "pointerdown", "focusin"]) {
      document.addEventListener(type, () => pollers.forEach((poller) => poller.wake()), { passive: true });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
