/* Counter desk: open/pause/close, call, serve, transfer, reprint; live queue for this counter. */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const STORAGE_KEY = "satupintu.counter";
  const $ = (id) => document.getElementById(id);
  const REPRINT_WAIT_MS = 20000; // how long to listen for the reprint's outcome

  const state = {
    me: null, counterId: null, counter: null, services: [], byId: {}, waiting: {},
    tickets: [], checked: {},
  };
  let live = null;
  let reprinting = null; // {ticket, number, room, printers, timer} while a reprint's outcome is awaited

  // -- counter choice -------------------------------------------------------

  function chosenCounter() {
    const fromUrl = new URLSearchParams(location.search).get("counter");
    return fromUrl || localStorage.getItem(STORAGE_KEY);
  }

  async function showPicker() {
    $("desk").hidden = true;
    $("picker").hidden = false;
    $("change-counter").hidden = true;
    const data = await SP.attempt(() => api("GET", "/counters"));
    if (!data) return;
    $("counter-list").replaceChildren(
      ...data.counters.map((c) =>
        el("button", { type: "button", class: "counter-choice", dataset: { counter: c.id },
          onclick: () => pick(c.id) },
          el("strong", {}, c.name),
          el("span", { class: "state-pill state-" + c.state }, t("state_" + c.state)),
          c.clerk ? el("span", { class: "muted" }, t("clerk", { name: c.clerk })) : null)),
    );
    const first = $("counter-list").querySelector("button");
    if (first) first.focus();
  }

  function pick(counterId) {
    localStorage.setItem(STORAGE_KEY, counterId);
    const url = new URL(location.href);
    url.searchParams.set("counter", counterId);
    location.assign(url.href); // a clean start: join this counter's room
  }

  // -- rendering ------------------------------------------------------------

  function current() {
    return state.counter && state.counter.current;
  }

  /** May the clerk do `action` here now? The server says, in the counter's `actions`. */
  function may(action) {
    return !!state.counter && (state.counter.actions || []).includes(action);
  }

  function render() {
    const c = state.counter;
    if (!c) return;
    $("counter-name").textContent = c.name;
    const pill = $("counter-state");
    pill.textContent = t("state_" + c.state);
    pill.className = "state-pill state-" + c.state;
    document.title = c.name + " · satupintu";
    const cur = current();
    for (const button of document.querySelectorAll("[data-action]")) {
      button.disabled = !may(button.dataset.action);
    }
    const s = cur ? state.byId[cur.service] : null;
    $("current-number").textContent = cur ? cur.number : "–";
    $("current-service").textContent = cur ? SP.serviceName(s) || cur.service : t("no_ticket");
    $("current-status").textContent = cur ? t("status_" + cur.status) : "";
    $("current").style.setProperty("--service", s ? s.colour : "#9e9e9e");
    $("checklist-box").style.setProperty("--service", s ? s.colour : "#9e9e9e");
    renderChecklist(cur, s);
    tickElapsed();
    renderCounts();
    for (const b of document.querySelectorAll("#waiting-list button")) b.disabled = !may("call");
  }

  function renderChecklist(cur, service) {
    const box = $("checklist-box");
    const items = cur && service && service.standard ? service.standard.requirements || [] : [];
    box.hidden = !items.length;
    if (!items.length) return;
    const key = cur.id;
    if ($("checklist").dataset.ticket === key) return; // keep the clerk's ticks
    $("checklist").dataset.ticket = key;
    $("checklist").replaceChildren(
      ...items.map((text, i) =>
        el("li", {},
          el("label", {},
            el("input", { type: "checkbox", id: "req-" + i }),
            " ", text))),
    );
  }

  function tickElapsed() {
    const cur = current();
    const since = cur && (cur.status === "serving" ? cur.started_at : cur.called_at);
    $("current-elapsed").textContent = since ? SP.elapsed(since) : "";
  }

  function myServices() {
    return state.counter ? state.counter.services.map((s) => s.id) : [];
  }

  function renderCounts() {
    $("service-counts").replaceChildren(
      ...myServices().map((id) => {
        const s = state.byId[id] || { id, prefix: "?", colour: "#888" };
        const n = (state.waiting[id] || {}).waiting || 0;
        return el("li", { style: { "--service": s.colour }, dataset: { service: id } },
          el("span", { class: "prefix" }, s.prefix),
          el("span", { class: "name" }, SP.serviceName(s)),
          el("strong", { class: "count", "aria-label": t("waiting_n", { n }) }, String(n)));
      }),
    );
  }

  function renderTickets() {
    const canCall = may("call");
    $("waiting-list").replaceChildren(
      ...state.tickets.map((ticket) => {
        const s = state.byId[ticket.service];
        return el("li", { style: { "--service": s ? s.colour : "#888" }, dataset: { ticket: ticket.id } },
          el("span", { class: "w-number" }, ticket.number),
          el("span", { class: "w-service" }, SP.serviceName(s) || ticket.service,
            ticket.priority ? el("span", { class: "prio" }, " · " + t("priority")) : null),
          el("button", { type: "button", disabled: !canCall, "aria-label": t("call") + " " + ticket.number,
            onclick: () => callTicket(ticket.id) }, t("call")));
      }),
    );
  }

  // -- actions --------------------------------------------------------------

  function applyResult(result) {
    if (result && result.counter) {
      state.counter = Object.assign({}, state.counter, result.counter);
      render();
    }
    refreshTickets();
  }

  async function act(action, body) {
    const id = encodeURIComponent(state.counterId);
    const result = await SP.attempt(() => api("POST", `/counters/${id}/${action}`, body));
    if (result === null) return;
    if (result === true) {
      // 204: nobody waiting for call-next
      SP.say(t("nobody_waiting"), "ok");
      refreshTickets();
      return;
    }
    if ((action === "call-next" || action === "call") && result.ticket) {
      SP.say(t("called", { number: result.ticket.number, counter: state.counter.name }), "ok");
    } else {
      SP.say("");
    }
    applyResult(result);
    if (action === "open") warnIfHoldingOthers();
  }

  /** One clerk, one counter: say so if this clerk still holds another one open or paused. */
  async function warnIfHoldingOthers() {
    let data = null;
    try {
      data = await api("GET", "/counters");
    } catch (err) {
      SP.bug(err);
      return;
    }
    const others = data.counters.filter((c) => String(c.id) !== String(state.counterId) &&
      c.clerk === state.me.username && c.state !== "closed");
    if (others.length) SP.say(t("holding_others", { counters: others.map((c) => c.name).join(", ") }));
  }

  function callTicket(ticketId) {
    return act("call", { ticket: ticketId });
  }

  function openTransfer() {
    const cur = current();
    if (!cur) return;
    const dialog = $("transfer-dialog");
    $("transfer-services").replaceChildren(
      ...state.services.filter((s) => s.id !== cur.service && s.enabled !== false).map((s) =>
        el("button", { type: "button", class: "transfer-choice", style: { "--service": s.colour },
          dataset: { service: s.id },
          onclick: () => {
            dialog.close();
            act("transfer", { service: s.id });
          } },
          el("span", { class: "prefix" }, s.prefix), " ", SP.serviceName(s))),
    );
    dialog.showModal();
    const first = dialog.querySelector(".transfer-choice");
    if (first) first.focus();
  }

  // -- reprint --------------------------------------------------------------

  function printerState(name, fallback) {
    return SP.strings["printer_" + name] !== undefined ? t("printer_" + name) : fallback || name || "";
  }

  function kioskName(kiosk) {
    const p = reprinting && reprinting.printers.find((x) => x.kiosk === kiosk);
    return p ? p.name || p.kiosk : kiosk;
  }

  function reprintDone() {
    if (!reprinting) return;
    clearTimeout(reprinting.timer);
    if (live) live.leave(reprinting.room);
    reprinting = null;
  }

  /** The printer's answer for the reprint, from the ticket's room: printed or failed. */
  function reprintOutcome(name, data) {
    if (!reprinting || !data || data.ticket !== reprinting.ticket) return;
    const { number } = reprinting;
    const kiosk = kioskName(data.kiosk);
    if (name === "ticket_printed") SP.say(t("reprint_done", { number, kiosk }), "ok");
    else SP.say(t("reprint_failed", { number, kiosk, state: printerState(data.printer, data.printer_message) }));
    reprintDone();
  }

  /** Print the ticket at the counter again: on the kiosk that issued it, else on a kiosk printer that is ready. */
  async function reprint() {
    const cur = current();
    if (!cur) return;
    if (reprinting) {
      SP.say(t("reprint_busy", { number: reprinting.number }), "ok");
      return;
    }
    const path = "/tickets/" + encodeURIComponent(cur.id) + "/reprint";
    reprinting = { ticket: cur.id, number: cur.number, room: "ticket:" + cur.id, printers: [], timer: null };
    try {
      const [printers] = await Promise.all([
        api("GET", "/printers"),
        live ? live.join(reprinting.room) : null, // before printing, so the outcome is heard
      ]);
      reprinting.printers = printers.printers;
      let result;
      try {
        result = await api("POST", path, {});
      } catch (err) {
        // Not issued at a kiosk with a printer (409 naming `kiosk`): use a ready kiosk printer.
        if (!(err instanceof SP.ApiError) || err.body.field !== "kiosk") throw err;
        const ready = reprinting.printers.find((p) => !p.alert);
        if (!ready) {
          SP.say(t("reprint_no_printer"));
          reprintDone();
          return;
        }
        result = await api("POST", path, { kiosk: ready.kiosk });
      }
      const info = result.print || {};
      if (!reprinting) return; // the printer answered (on the room) before the API did
      if (info.state === "failed") return reprintOutcome("print_failed", info);
      SP.say(t("reprint_sent", { number: cur.number, kiosk: kioskName(info.kiosk) }), "ok");
      reprinting.timer = setTimeout(reprintDone, REPRINT_WAIT_MS);
    } catch (err) {
      SP.say(SP.errorText(err));
      reprintDone();
      SP.bug(err);
    }
  }

  async function refreshTickets() {
    if (!state.counterId) return;
    const id = encodeURIComponent(state.counterId);
    try {
      const data = await api("GET", `/counters/${id}/waiting`);
      state.tickets = data.tickets || [];
      renderTickets();
    } catch (err) {
      if (err.status) SP.say(SP.errorText(err));
      SP.bug(err);
    }
  }
  const refreshSoon = SP.throttle(refreshTickets, 1000);

  /** The counter as the server has it now (state, ticket, the actions it allows). */
  async function refreshCounter() {
    if (!state.counterId) return;
    try {
      const view = await api("GET", "/counters/" + encodeURIComponent(state.counterId));
      state.counter = Object.assign({}, state.counter, view);
      render();
      renderTickets();
    } catch (err) {
      SP.bug(err);
    }
  }
  const refreshCounterSoon = SP.throttle(refreshCounter, 500);

  // -- wiring ---------------------------------------------------------------

  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => {
      if (button.dataset.action === "transfer") openTransfer();
      else if (button.dataset.action === "reprint") reprint();
      else act(button.dataset.action);
    });
  }
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
    const target = e.target;
    if (target.closest && target.closest("input, select, textarea, dialog")) return;
    const button = document.querySelector(`[data-key="${CSS.escape(e.key.toLowerCase())}"]`);
    if (button && !$("desk").hidden) {
      e.preventDefault();
      if (!button.disabled) button.click();
    }
  });
  $("call-number").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("call-number-input").value.trim().toUpperCase();
    if (!value) return;
    callTicket(value).then(() => ($("call-number-input").value = ""));
  });
  $("logout").addEventListener("click", () => SP.logout());
  $("change-counter").addEventListener("click", () => {
    localStorage.removeItem(STORAGE_KEY);
    const url = new URL(location.href);
    url.searchParams.delete("counter");
    history.replaceState(null, "", url.href);
    location.reload();
  });
  setInterval(tickElapsed, 1000);

  (async function start() {
    state.me = await SP.requireLogin(["clerk", "manager"]);
    $("who").textContent = state.me.username;
    const counterId = chosenCounter();
    if (!counterId) return showPicker();
    state.counterId = counterId;
    $("picker").hidden = true;
    $("desk").hidden = false;
    $("change-counter").hidden = false;
    live = SP.live({
      rooms: ["display", "counter:" + counterId],
      extraEvents: ["ticket_printed", "print_failed"], // a reprint's outcome, on the ticket's room
      onSnapshot(snapshot) {
        state.services = snapshot.services || [];
        state.byId = Object.fromEntries(state.services.map((s) => [s.id, s]));
        state.waiting = Object.fromEntries(state.services.map((s) => [s.id, s]));
        const mine = (snapshot.counters || []).find((c) => String(c.id) === String(counterId));
        if (!mine) {
          localStorage.removeItem(STORAGE_KEY);
          SP.say(t("err_no_such_counter"));
          return showPicker();
        }
        state.counter = Object.assign({}, state.counter, mine);
        render();
        refreshTickets();
      },
      onServices(list) { // a manager edited the catalogue: names, requirements, closed services
        state.services = list;
        state.byId = Object.fromEntries(list.map((s) => [s.id, s]));
        state.waiting = Object.fromEntries(list.map((s) => [s.id, s]));
        render();
        renderTickets();
      },
      onEvent(name, data) {
        if (name === "ticket_printed" || name === "print_failed") reprintOutcome(name, data);
        else if (name === "counter_updated" && data.counter && String(data.counter.id) === String(counterId)) {
          state.counter = Object.assign({}, state.counter, data.counter);
          render();
          renderTickets();
        } else if (name === "queue_updated") {
          let mine = false;
          for (const [id, summary] of Object.entries(data.services || {})) {
            state.waiting[id] = Object.assign({}, state.waiting[id], summary);
            if (myServices().includes(id)) mine = true;
          }
          renderCounts();
          if (mine) refreshSoon();
        } else if ((name === "ticket_updated" || name === "ticket_called") && data.ticket) {
          const cur = current();
          if (cur && cur.id === data.ticket.id) {
            const stillHere = data.ticket.counter === state.counterId &&
              (data.ticket.status === "called" || data.ticket.status === "serving");
            const changed = stillHere && data.ticket.status !== cur.status;
            state.counter.current = stillHere ? Object.assign({}, cur, data.ticket) : cur;
            render();
            // Done elsewhere (another tab): what may be done now is the server's to say.
            if (changed) refreshCounterSoon();
          }
        }
      },
    });
  })();
})();
