/* Hall display: the current call very large, the last calls, waiting counts, sound.
 * It never misses a call: SP.live refetches the snapshot on reconnect or a seq gap,
 * and calls that happened while it was cut off are shown (and announced) on return. */
(function () {
  "use strict";
  const { t, el } = SP;
  const HISTORY = 8; // previous calls listed beside the current one
  const HIGHLIGHT_MS = 8000;
  const MISSED_ANNOUNCE_S = 300; // calls missed while offline are announced if this recent

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const listParam = (name) => (params.get(name) || "").split(",").map((s) => s.trim()).filter(Boolean);
  const onlyCounters = new Set(listParam("counters"));
  const onlyServices = new Set(listParam("services"));
  const voices = listParam("voice").filter((v) => v === "id" || v === "en");
  const speakLangs = voices.length ? voices : [SP.lang];
  const timeZone = $("display").dataset.timezone || undefined;
  SPSound.enabled = params.get("sound") !== "0";

  const state = { calls: [], services: [], byId: {}, waiting: {}, day: null };
  const ENDED = new Set(["cancelled", "expired"]);
  let highlightTimer = null;

  const shows = (call) =>
    (!onlyCounters.size || onlyCounters.has(String(call.counter))) &&
    (!onlyServices.size || onlyServices.has(call.service));

  /** Newest first, each ticket once (a recall moves it back to the top). */
  function uniqueTickets(calls) {
    const seen = new Set();
    return calls.filter((c) => !seen.has(c.ticket) && seen.add(c.ticket));
  }

  // -- rendering ------------------------------------------------------------

  function renderCalls() {
    const [current, ...rest] = state.calls;
    const box = $("current");
    if (current) {
      const s = state.byId[current.service];
      $("current-number").textContent = current.number;
      $("current-counter").textContent = current.counter_name || current.counter;
      $("current-service").textContent = (current.recall ? t("recall") + " · " : "") + (s ? SP.serviceName(s) : "");
      box.style.setProperty("--service", s ? s.colour : "#fff");
      box.dataset.ticket = current.ticket;
    } else {
      $("current-number").textContent = "–";
      $("current-counter").textContent = "";
      $("current-service").textContent = t("nobody_called");
    }
    $("history").replaceChildren(
      ...rest.slice(0, HISTORY).map((c) => {
        const s = state.byId[c.service];
        return el("li", { class: "history-item" + (c.missed ? " missed" : ""), style: { "--service": s ? s.colour : "#888" },
          dataset: { ticket: c.ticket } },
          el("span", { class: "h-number" }, c.number),
          el("span", { class: "h-arrow", "aria-hidden": "true" }, "→"),
          el("span", { class: "h-counter" }, c.counter_name || c.counter),
          c.missed ? el("span", { class: "h-missed" }, t("missed")) : null);
      }),
    );
  }

  function renderWaiting() {
    const list = state.services.filter((s) => s.enabled !== false && (!onlyServices.size || onlyServices.has(s.id)));
    $("waiting").replaceChildren(
      ...list.map((s) => {
        const n = (state.waiting[s.id] || {}).waiting || 0;
        return el("li", { class: "waiting-item", style: { "--service": s.colour }, dataset: { service: s.id } },
          el("span", { class: "w-prefix", "aria-hidden": "true" }, s.prefix),
          el("span", { class: "w-name" }, SP.serviceName(s)),
          el("span", { class: "w-count", "aria-label": t("waiting_n", { n }) }, String(n)));
      }),
    );
  }

  function highlight() {
    const box = $("current");
    box.classList.remove("new-call");
    void box.offsetWidth; // restart the animation on every call
    box.classList.add("new-call");
    clearTimeout(highlightTimer);
    highlightTimer = setTimeout(() => box.classList.remove("new-call"), HIGHLIGHT_MS);
  }

  function announce(call, texts) {
    SPSound.announce(texts || SPSound.texts(call.number, call.counter_name || "Loket " + call.counter), speakLangs);
  }

  // -- state changes --------------------------------------------------------

  function onSnapshot(snapshot, resync) {
    state.services = snapshot.services || [];
    state.byId = Object.fromEntries(state.services.map((s) => [s.id, s]));
    state.waiting = Object.fromEntries(state.services.map((s) => [s.id, s]));
    const raw = (snapshot.recent_calls || []).filter(shows);
    // Calls made while this display was cut off: those above the last call it had seen
    // (newest first; a recall's time is not in its event, so it matches by ticket).
    let missed = [];
    if (resync) {
      const last = state.calls[0];
      const seen = last ? raw.findIndex((c) => c.ticket === last.ticket &&
        (c.at === last.at || (last.recall && c.recall))) : -1;
      missed = seen === -1 ? raw : raw.slice(0, seen);
    }
    for (const c of missed) c.missed = true;
    state.calls = uniqueTickets(raw);
    renderCalls();
    renderWaiting();
    if (missed.length) {
      highlight();
      const recent = missed.filter((c) => Date.now() - Date.parse(c.at) < MISSED_ANNOUNCE_S * 1000);
      for (const c of recent.reverse()) announce(c);
    }
  }

  function onCalled(data) {
    const ticket = data.ticket || {};
    const call = {
      ticket: ticket.id, number: ticket.number, service: ticket.service, counter: ticket.counter,
      counter_name: ticket.counter_name, recall: !!data.recall,
      // A first call's time is the ticket's called_at (as in the snapshot's call log).
      at: data.at || (!data.recall && ticket.called_at) || new Date().toISOString(),
    };
    if (!shows(call)) return;
    state.calls = uniqueTickets([call, ...state.calls]).slice(0, HISTORY + 1);
    renderCalls();
    highlight();
    announce(call, data.announcement);
  }

  /** A called ticket that was cancelled or expired is nobody to go to: off the display. */
  function onUpdated(data) {
    const ticket = data.ticket || {};
    if (!ENDED.has(ticket.status) || !state.calls.some((c) => c.ticket === ticket.id)) return;
    state.calls = state.calls.filter((c) => c.ticket !== ticket.id);
    renderCalls();
  }

  function onEvent(name, data) {
    if (name === "ticket_called") onCalled(data);
    else if (name === "ticket_updated") onUpdated(data);
    else if (name === "queue_updated") {
      for (const [id, summary] of Object.entries(data.services || {})) {
        state.waiting[id] = Object.assign({}, state.waiting[id], summary);
      }
      renderWaiting();
    }
  }

  // -- clock ----------------------------------------------------------------

  /** The office's local date of a moment, YYYY-MM-DD (en-CA writes dates that way). */
  const officeDay = (moment) => moment.toLocaleDateString("en-CA", { timeZone });

  function clock() {
    const now = new Date();
    const today = officeDay(now);
    if (state.day && state.day !== today) {
      // Midnight: numbers start again, so yesterday's calls would only confuse.
      state.calls = state.calls.filter((c) => officeDay(new Date(c.at)) === today);
      renderCalls();
    }
    state.day = today;
    const locale = SP.lang === "en" ? "en-GB" : "id-ID";
    $("date").textContent = now.toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone });
    $("time").textContent = now.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone });
  }
  clock();
  setInterval(clock, 5000);

  // -- sound unlock ---------------------------------------------------------

  const overlay = $("sound-overlay");
  async function enableSound() {
    if (await SPSound.unlock()) {
      overlay.hidden = true;
      document.removeEventListener("keydown", enableSound);
    }
  }
  if (params.get("sound") !== "0" && SPSound.blocked()) {
    overlay.hidden = false;
    $("sound-button").addEventListener("click", enableSound);
    overlay.addEventListener("click", enableSound);
    document.addEventListener("keydown", enableSound);
  }

  /** A manager edited the catalogue: names, prefixes, colours, closed services. */
  function onServices(list) {
    state.services = list;
    state.byId = Object.fromEntries(list.map((s) => [s.id, s]));
    state.waiting = Object.fromEntries(list.map((s) => [s.id, s]));
    renderWaiting();
  }

  window.SPDisplay = { state };
  SP.live({ rooms: ["display"], onSnapshot, onEvent, onServices });
})();
