/* Manager's printer panel: every kiosk printer's state (GET /printers, then live on
 * printer_status and print_failed in the manager room), tickets that did not print, and
 * reprints (POST /tickets/<id or number>/reprint). manager.js feeds it the events and shows
 * `SPPrinters.alerts()` in the alert list. */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const $ = (id) => document.getElementById(id);
  const FAILED_ALERT_MS = 10 * 60 * 1000; // a ticket that did not print stays an alert this long
  const FAILED_KEPT = 5; // unprinted tickets listed per printer, newest first

  // printers: kiosk id -> status view; failed: kiosk id -> [{id, number, at}]
  const state = { printers: new Map(), failed: new Map(), loaded: false };

  /** A printer state in the page's language (the server's Indonesian text for an unknown one). */
  function stateName(name, fallback) {
    return SP.strings["printer_" + name] !== undefined ? t("printer_" + name) : fallback || name || "";
  }

  function stateText(p) {
    return stateName(p.state, p.message);
  }

  function level(p) {
    return p.alert ? "alert" : p.warning ? "warning" : "ok";
  }

  function timeText(epochSeconds) {
    if (!epochSeconds) return "–";
    return new Date(epochSeconds * 1000).toLocaleTimeString(SP.lang === "en" ? "en-GB" : "id-ID",
      { hour: "2-digit", minute: "2-digit" });
  }

  function failedOf(kiosk) {
    return state.failed.get(kiosk) || [];
  }

  function render() {
    const rows = [...state.printers.values()];
    $("printer-empty").hidden = !state.loaded || rows.length > 0;
    $("printer-rows").replaceChildren(...rows.map((p) => {
      const failed = failedOf(p.kiosk);
      return el("tr", { class: "printer-" + level(p), dataset: { kiosk: p.kiosk, state: p.state } },
        el("th", { scope: "row" }, p.name || p.kiosk, el("span", { class: "muted" }, " (" + p.kiosk + ")")),
        el("td", { class: "printer-desc" }, p.printer || p.type),
        el("td", {}, el("span", { class: "printer-state state-pill " + level(p) }, stateText(p))),
        el("td", { class: "num" }, timeText(p.since)),
        el("td", { class: "printer-detail" }, p.detail || "–"),
        el("td", { class: "printer-failed" }, failed.length
          ? failed.map((f) => el("button", { type: "button", class: "reprint-failed", dataset: { ticket: f.id },
            "aria-label": t("reprint_ticket", { number: f.number }), onclick: () => reprint(f.id, p.kiosk, f.number) },
          t("reprint_ticket", { number: f.number })))
          : "–"));
    }));
    const select = $("reprint-kiosk");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, t("reprint_own_kiosk")),
      ...rows.map((p) => el("option", { value: p.kiosk, selected: p.kiosk === chosen }, p.name || p.kiosk)));
  }

  /** The alert list's printer items: [{text, kind: "alert" | "warning"}]. */
  function alerts() {
    const items = [];
    const now = Date.now();
    for (const p of state.printers.values()) {
      const recent = failedOf(p.kiosk).filter((f) => now - f.at < FAILED_ALERT_MS).map((f) => f.number);
      const name = p.name || p.kiosk;
      if (p.alert) {
        let text = t("printer_alert", { kiosk: name, state: stateText(p) });
        if (recent.length) text += " " + t("not_printed", { numbers: recent.join(", ") });
        items.push({ text, kind: "alert" });
      } else if (recent.length) {
        items.push({ text: t("print_failed_alert", { kiosk: name, numbers: recent.join(", ") }), kind: "alert" });
      }
      if (p.warning) items.push({ text: t("printer_alert", { kiosk: name, state: stateText(p) }), kind: "warning" });
    }
    return items;
  }

  async function load() {
    try {
      const data = await api("GET", "/printers");
      state.printers = new Map(data.printers.map((p) => [p.kiosk, p]));
      state.loaded = true;
      render();
    } catch (err) {
      if (err.status) SP.say(SP.errorText(err));
      SP.bug(err);
    }
  }

  async function ticketFailed(data) {
    let number = data.ticket;
    try {
      number = (await api("GET", "/tickets/" + encodeURIComponent(data.ticket))).number;
    } catch (err) {
      SP.bug(err); // the id stands in for the number
    }
    const list = failedOf(data.kiosk).filter((f) => f.id !== data.ticket);
    list.unshift({ id: data.ticket, number, at: Date.now() });
    state.failed.set(data.kiosk, list.slice(0, FAILED_KEPT));
    const p = state.printers.get(data.kiosk);
    if (p && data.printer && p.state !== data.printer) load(); // the status event may be late
    render();
  }

  /** printer_status (a printer's state changed) or print_failed (a ticket did not print). */
  function onEvent(name, data) {
    if (!data || !data.kiosk) return;
    if (name === "printer_status") {
      state.printers.set(data.kiosk, Object.assign({}, state.printers.get(data.kiosk), data));
      render();
    } else if (name === "print_failed") {
      ticketFailed(data);
    }
  }

  /** What to say when the server refuses a reprint. */
  function refusalText(err) {
    if (err.code === "no_printer") return t("reprint_no_printer");
    if (err.code === "kiosk_required" || err.code === "no_such_kiosk") return t("reprint_pick_kiosk");
    return SP.errorText(err);
  }

  /** Reprint `ticket` (id or today's number) on `kiosk` ("" for the kiosk that issued it). */
  async function reprint(ticket, kiosk, number) {
    const body = kiosk ? { kiosk } : {};
    let result;
    try {
      result = await api("POST", "/tickets/" + encodeURIComponent(ticket) + "/reprint", body);
    } catch (err) {
      SP.say(refusalText(err));
      SP.bug(err);
      return false;
    }
    const printed = result.print || {};
    const p = state.printers.get(printed.kiosk);
    const where = p ? p.name || p.kiosk : printed.kiosk;
    if (printed.state === "failed") {
      SP.say(t("reprint_failed", { number, kiosk: where, state: stateName(printed.printer, printed.printer_message) }));
      return false;
    }
    for (const [id, list] of state.failed) state.failed.set(id, list.filter((f) => f.id !== printed.ticket));
    render();
    SP.say(t("reprint_sent", { number, kiosk: where }), "ok");
    return true;
  }

  $("reprint-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("reprint-number");
    const number = input.value.trim().toUpperCase();
    if (!number) {
      input.focus();
      return;
    }
    if (await reprint(number, $("reprint-kiosk").value, number)) input.value = "";
  });

  window.SPPrinters = { load, onEvent, alerts };
})();
