/* Kiosk: pick a service -> read its published standard -> take a number -> ticket + QR. */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const IDLE_MS = 45000; // back to the start when nobody touches the standard screen
  const TICKET_MS = 15000; // how long the ticket stays up
  const TICKET_PRINT_FAILED_MS = 60000; // ... and when the printer failed: time to note it down
  const TICKET_NO_PRINTER_MS = 30000; // a kiosk without a printer: the screen is the ticket

  const $ = (id) => document.getElementById(id);
  const screens = ["services", "standard", "ticket"];
  const state = { services: [], byId: {}, chosen: null, full: new Set(), busy: false, pending: null };
  let idleTimer = null;
  let ticketTimer = null;

  function show(name) {
    for (const s of screens) $("screen-" + s).hidden = s !== name;
    document.body.dataset.screen = name;
    clearTimeout(idleTimer);
    clearInterval(ticketTimer);
    if (name === "standard") armIdle();
    const focus = { services: "#service-grid button:not([disabled])", standard: "#take-button", ticket: "#done-button" };
    const target = document.querySelector(focus[name]);
    if (target) target.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  function armIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, IDLE_MS);
  }

  function home() {
    state.chosen = null;
    SP.say("");
    show("services");
  }

  /** Ready for the next citizen: the start screen in the office's language. */
  function reset() {
    const lang = document.body.dataset.defaultLang || "id";
    if (SP.lang !== lang) location.assign(location.pathname + "?lang=" + lang);
    else home();
  }

  // -- service buttons ------------------------------------------------------

  function isFull(service) {
    return state.full.has(service.id) || service.quota_full === true;
  }

  function renderServices() {
    const grid = $("service-grid");
    const focused = document.activeElement && document.activeElement.dataset.service;
    grid.replaceChildren(
      ...state.services.map((s) => {
        const closed = s.enabled === false;
        const full = isFull(s);
        let status = [t("waiting", { n: s.waiting || 0 }), t("wait", { wait: SP.waitText(s.estimated_wait_s) })].join(" · ");
        if (closed) status = t("service_closed");
        else if (full) status = t("quota_full");
        else if (s.counters_assigned === 0) status += " · " + t("no_counter_takes");
        else if (s.counters_open === 0) status += " · " + t("no_counter_open");
        return el("li", {}, el(
          "button",
          {
            type: "button",
            class: "service-button" + (closed || full ? " unavailable" : ""),
            style: { "--service": s.colour },
            disabled: closed || full,
            "aria-disabled": closed || full ? "true" : null,
            dataset: { service: s.id },
            onclick: () => choose(s.id),
          },
          el("span", { class: "prefix", "aria-hidden": "true" }, s.prefix),
          el("span", { class: "service-text" },
            el("span", { class: "service-title" }, SP.serviceName(s)),
            el("span", { class: "service-status" }, status)),
        ));
      }),
    );
    // Say "every counter serves every service" only while it is true.
    const offered = state.services.filter((s) => s.enabled !== false);
    $("all-counters-hint").hidden = !offered.length || !offered.every(
      (s) => s.counters_total > 0 && s.counters_assigned === s.counters_total);
    const again = focused && grid.querySelector(`[data-service="${CSS.escape(focused)}"]`);
    if (again && !again.disabled) again.focus({ preventScroll: true });
    else if (document.body.dataset.screen === "services" && !grid.contains(document.activeElement)) {
      const first = grid.querySelector("button:not([disabled])");
      if (first && (document.activeElement === document.body || !document.activeElement)) {
        first.focus({ preventScroll: true });
      }
    }
  }

  // -- standard -------------------------------------------------------------

  function fillList(id, items) {
    $(id).replaceChildren(...(items || []).map((text) => el("li", {}, text)));
  }

  function choose(serviceId) {
    const s = state.byId[serviceId];
    if (!s) return;
    state.chosen = s.id;
    fillStandard(s);
    document.querySelector('input[name="priority"][value=""]').checked = true;
    show("standard");
  }

  function fillStandard(s) {
    const std = s.standard || {};
    $("standard-head").style.setProperty("--service", s.colour);
    $("standard-prefix").textContent = s.prefix;
    $("standard-title").textContent = SP.serviceName(s);
    fillList("standard-requirements", std.requirements);
    fillList("standard-procedure", std.procedure);
    const fee = $("standard-fee");
    fee.className = std.free ? "free" : "fee";
    fee.textContent = std.free ? t("free") : std.fee || "";
    $("standard-fee-basis").textContent = std.fee_basis || "";
    $("standard-time").textContent = std.processing_time || "";
    $("standard-product").textContent = std.product || "";
    $("standard-complaint").textContent = std.complaint || "";
  }

  /** A random Idempotency-Key (crypto.randomUUID needs HTTPS; kiosks may be on plain LAN HTTP). */
  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Retry delays (ms) while the outcome of a press is unknown: ~12 s in all.
  const RETRY_DELAYS = [1000, 2000, 2000, 3000, 4000];

  /**
   * POST /tickets with the press's Idempotency-Key, again with the same key after a network
   * error or a 503: the server may have issued the ticket and lost the answer, and the same
   * key returns that ticket instead of a second one. The key is kept while the outcome stays
   * unknown, so pressing "Ambil nomor" again for the same choice cannot make a ghost ticket.
   */
  async function issue(body) {
    const sig = body.service + "|" + body.priority;
    if (!state.pending || state.pending.sig !== sig) state.pending = { sig, key: newKey() };
    const headers = { "Idempotency-Key": state.pending.key };
    for (let attempt = 0; ; attempt++) {
      try {
        const ticket = await api("POST", "/tickets", body, headers);
        state.pending = null;
        return ticket;
      } catch (err) {
        const unknown = err instanceof SP.ApiError && [0, 502, 503, 504].includes(err.status);
        if (!unknown) state.pending = null; // a clear refusal: the next press is a new request
        if (!unknown || attempt >= RETRY_DELAYS.length) throw err;
        SP.say(t("retrying"), "error");
        await new Promise((r) => setTimeout(r, RETRY_DELAYS[attempt]));
      }
    }
  }

  async function take() {
    if (state.busy || !state.chosen) return;
    state.busy = true;
    $("take-button").disabled = true;
    const priority = document.querySelector('input[name="priority"]:checked').value;
    try {
      const ticket = await issue({ service: state.chosen, priority });
      SP.say("");
      showTicket(ticket);
    } catch (err) {
      if (err.code === "quota_full") {
        state.full.add(state.chosen);
        renderServices();
      }
      SP.say(SP.errorText(err));
      SP.bug(err);
      armIdle();
    } finally {
      state.busy = false;
      $("take-button").disabled = false;
    }
  }

  // -- ticket ---------------------------------------------------------------

  /** The print state the issuing answer carries: queued, printed, failed or none (no printer). */
  function printState(ticket) {
    const p = ticket.print;
    return p && typeof p === "object" && p.state ? p.state : "none";
  }

  function drawQr(url) {
    const box = $("ticket-qr");
    box.replaceChildren();
    if (typeof qrcode !== "function") return;
    const qr = qrcode(0, "M");
    qr.addData(url);
    qr.make();
    box.innerHTML = qr.createSvgTag({ cellSize: 8, margin: 2, scalable: true });
    box.dataset.url = url;
  }

  let shown = null;
  let live = null;

  function showTicket(ticket) {
    shown = ticket;
    const s = state.byId[ticket.service] || {};
    $("ticket-number").textContent = ticket.number;
    $("screen-ticket").style.setProperty("--service", s.colour || "#000");
    $("ticket-service").textContent = SP.serviceName(s);
    $("ticket-ahead").textContent = ticket.people_ahead
      ? t("people_ahead", { n: ticket.people_ahead })
      : t("nobody_ahead");
    $("ticket-wait").textContent = SP.waitText(ticket.estimated_wait_s);
    drawQr(new URL(ticket.url || "/t/" + ticket.id, location.origin).href);
    const print = printState(ticket);
    setPrint(print);
    if (print === "queued") followPrint(ticket.id);
  }

  /** The printer reports on the ticket's room; ask once after joining in case it was quicker. */
  async function followPrint(ticketId) {
    if (live) await live.join("ticket:" + ticketId);
    try {
      const info = await api("GET", "/tickets/" + encodeURIComponent(ticketId) + "/print");
      if (info && info.state === "failed" && shown && shown.id === ticketId &&
          document.body.dataset.screen === "ticket") setPrint("failed");
    } catch (err) {
      /* the event still comes */
    }
  }

  function setPrint(state) {
    const failed = state === "failed";
    const box = $("print-failed");
    box.hidden = !failed;
    box.textContent = failed ? t("print_failed") : "";
    $("no-printer").hidden = state !== "none";
    const ms = failed ? TICKET_PRINT_FAILED_MS : state === "none" ? TICKET_NO_PRINTER_MS : TICKET_MS;
    countdown(ms);
  }

  function countdown(ms) {
    show("ticket");
    const until = Date.now() + ms;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) return reset();
      $("ticket-countdown").textContent = t("back_in", { n: left });
    };
    tick();
    ticketTimer = setInterval(tick, 500);
  }

  // -- data -----------------------------------------------------------------

  function setServices(list) {
    state.services = list;
    state.byId = Object.fromEntries(list.map((s) => [s.id, s]));
    renderServices();
  }

  /** A manager edited the catalogue: new names, fees, quotas ... at once, even mid-choice. */
  function catalogueChanged(list) {
    state.full.clear(); // a raised quota takes tickets again; a full one refuses the next try
    setServices(list);
    const chosen = state.chosen && state.byId[state.chosen];
    if (document.body.dataset.screen !== "standard" || !state.chosen) return;
    if (chosen && chosen.enabled !== false) fillStandard(chosen);
    else home(); // the service closed while the citizen was reading about it
  }

  function applyQueue(services) {
    for (const [id, summary] of Object.entries(services || {})) {
      if (state.byId[id]) Object.assign(state.byId[id], summary);
    }
    renderServices();
  }

  function clock() {
    const now = new Date();
    // The office's time, like the display, whatever time zone the kiosk PC was set to.
    $("clock").textContent = now.toLocaleTimeString(SP.lang === "en" ? "en-GB" : "id-ID", {
      hour: "2-digit", minute: "2-digit", timeZone: $("clock").dataset.timezone || undefined,
    });
  }

  // -- wiring ---------------------------------------------------------------

  $("back-button").addEventListener("click", home);
  $("take-button").addEventListener("click", take);
  $("done-button").addEventListener("click", reset);
  for (const type of ["pointerdown", "keydown", "touchstart"]) {
    document.addEventListener(type, () => {
      if (document.body.dataset.screen === "standard") armIdle();
    }, { passive: true });
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.body.dataset.screen !== "services") home();
  });
  document.addEventListener("contextmenu", (e) => e.preventDefault()); // long-press menus on touch screens

  clock();
  setInterval(clock, 10000);

  (async function start() {
    await SP.requireLogin(["kiosk", "manager"]);
    show("services");
    live = SP.live({
      rooms: ["display"],
      onSnapshot(snapshot) {
        setServices(snapshot.services || []);
      },
      onServices: catalogueChanged,
      onEvent(name, data) {
        if (name === "queue_updated") applyQueue(data.services);
        else if (name === "print_failed" && shown && data.ticket === shown.id &&
                 document.body.dataset.screen === "ticket") {
          setPrint("failed");
        }
      },
      extraEvents: ["print_failed"],
    });
  })();
})();
