/* Manager's board: counters (state, clerk, ticket, assignment toggles), services vs targets,
 * alerts, today's tickets and mean waits per hour. Live from the `manager` room; figures from
 * /reports/today; the catalogue editor is catalogue.js, the printer panel printers.js. */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const $ = (id) => document.getElementById(id);
  const REPORT_EVERY_MS = 15000;

  const state = { services: [], byId: {}, counters: [], report: null, chart: null, waitsChart: null };
  const cardCache = {};

  // -- counters -------------------------------------------------------------

  function currentLine(c) {
    const cur = c.current;
    if (!cur) return el("p", { class: "current idle" }, t("idle"));
    const since = cur.status === "serving" ? cur.started_at : cur.called_at;
    return el("p", { class: "current" },
      el("strong", { class: "number" }, cur.number), " ", t("status_" + cur.status), " ",
      el("span", { class: "elapsed", dataset: { since: since || "" } }, SP.elapsed(since)));
  }

  function counterCard(c) {
    const takes = Object.fromEntries(c.services.map((s) => [s.id, s.weight]));
    const stateButton = (action) =>
      el("button", { type: "button", "data-action": action,
        disabled: !(c.actions || []).includes(action), // the server's rule (model.counter_actions)
        onclick: () => counterAction(c.id, action) }, t(action));
    return el("article", { class: "counter-card state-" + c.state, dataset: { counter: c.id },
      "aria-labelledby": "counter-title-" + c.id },
      el("header", {},
        el("h3", { id: "counter-title-" + c.id }, c.name),
        el("span", { class: "state-pill state-" + c.state }, t("state_" + c.state))),
      el("p", { class: "clerk" }, t("clerk") + ": ", el("strong", {}, c.clerk || t("no_clerk"))),
      currentLine(c),
      el("div", { class: "state-buttons" }, ["open", "pause", "close"].map(stateButton)),
      el("fieldset", { class: "assignment" },
        el("legend", {}, t("takes")),
        state.services.map((s) => {
          const id = `c-${c.id}-svc-${s.id}`;
          const on = s.id in takes;
          return el("div", { class: "toggle" + (on ? " on" : ""), style: { "--service": s.colour } },
            el("input", { type: "checkbox", id, checked: on, dataset: { service: s.id },
              onchange: () => saveAssignment(c.id) }),
            el("label", { for: id }, el("span", { class: "prefix" }, s.prefix), " ", SP.serviceName(s)),
            el("input", { type: "number", class: "weight", id: id + "-weight", min: "1", max: "100",
              value: String(takes[s.id] || 1), disabled: !on, "aria-label": t("weight") + " " + SP.serviceName(s),
              title: t("weight"), onchange: () => saveAssignment(c.id) }));
        })));
  }

  function renderCounters() {
    const grid = $("counters");
    const focused = document.activeElement && document.activeElement.id;
    const cards = state.counters.map((c) => {
      const key = JSON.stringify(c) + SP.lang + state.services.length;
      if (!cardCache[c.id] || cardCache[c.id].key !== key) cardCache[c.id] = { key, node: counterCard(c) };
      return cardCache[c.id].node;
    });
    if (cards.length !== grid.children.length || cards.some((n, i) => grid.children[i] !== n)) {
      grid.replaceChildren(...cards);
    }
    if (focused && document.activeElement && document.activeElement.id !== focused) {
      const again = document.getElementById(focused);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function setCounter(view) {
    const i = state.counters.findIndex((c) => c.id === view.id);
    if (i >= 0) state.counters[i] = Object.assign({}, state.counters[i], view);
    else state.counters.push(view);
    renderCounters();
  }

  async function counterAction(counterId, action) {
    const result = await SP.attempt(() => api("POST", `/counters/${encodeURIComponent(counterId)}/${action}`));
    if (result && result.counter) setCounter(result.counter);
  }

  async function saveAssignment(counterId) {
    const card = document.querySelector(`.counter-card[data-counter="${CSS.escape(counterId)}"]`);
    const services = [];
    for (const box of card.querySelectorAll("input[type=checkbox][data-service]")) {
      const weight = card.querySelector("#" + CSS.escape(box.id + "-weight"));
      weight.disabled = !box.checked;
      if (box.checked) services.push({ id: box.dataset.service, weight: Math.max(1, Math.min(100, parseInt(weight.value, 10) || 1)) });
    }
    const counter = state.counters.find((c) => c.id === counterId);
    if (!services.length) {
      SP.say(t("last_service"));
      delete cardCache[counterId];
      renderCounters();
      return;
    }
    const result = await SP.attempt(() => api("PUT", `/counters/${encodeURIComponent(counterId)}/services`, { services }));
    if (result && result.counter) {
      setCounter(result.counter);
      SP.say(t("saved", { counter: counter ? counter.name : counterId }), "ok");
    } else {
      delete cardCache[counterId]; // refused: show the assignment as it really is
      renderCounters();
    }
  }

  // -- services and figures -------------------------------------------------

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds % 60);
    return m + ":" + String(s).padStart(2, "0");
  }

  function longestWait(figure) {
    if (!figure || !figure.oldest_waiting_at || !figure.waiting) return 0;
    return Math.max(0, (Date.now() - Date.parse(figure.oldest_waiting_at)) / 1000);
  }

  function renderServices() {
    const report = state.report;
    const figures = report ? Object.fromEntries(report.services.map((f) => [f.id, f])) : {};
    const alerts = [];
    $("service-rows").replaceChildren(
      ...state.services.map((s) => {
        const f = figures[s.id] || {};
        const waiting = s.waiting !== undefined ? s.waiting : f.waiting || 0;
        const longest = waiting ? longestWait(f) : 0;
        const target = s.target_wait_min * 60;
        const over = longest > target;
        if (over) alerts.push(t("alert", { service: SP.serviceName(s), wait: minutes(longest), target: s.target_wait_min }));
        return el("tr", { class: over ? "over" : "", style: { "--service": s.colour }, dataset: { service: s.id } },
          el("th", { scope: "row" }, el("span", { class: "prefix" }, s.prefix), " ", SP.serviceName(s)),
          el("td", { class: "num waiting" }, String(waiting)),
          el("td", { class: "num longest" }, minutes(longest)),
          el("td", { class: "num" }, s.target_wait_min + ":00"),
          el("td", { class: "num" }, minutes(f.mean_wait_s)),
          el("td", { class: "num served" }, String(f.served || 0)),
          el("td", { class: "num" }, String(f.no_show || 0)),
          el("td", { class: "num" }, String(f.issued || 0)));
      }),
    );
    const totals = report ? report.totals : {};
    $("totals").replaceChildren(
      el("th", { scope: "row" }, t("total")),
      el("td", { class: "num" }, String(state.services.reduce((n, s) => n + (s.waiting || 0), 0))),
      el("td", {}), el("td", {}),
      el("td", { class: "num" }, minutes(totals.mean_wait_s)),
      el("td", { class: "num" }, String(totals.served || 0)),
      el("td", { class: "num" }, String(totals.no_show || 0)),
      el("td", { class: "num" }, String(totals.issued || 0)));
    const items = storeAlerts().concat(alerts.map((text) => ({ text, kind: "alert" })), SPPrinters.alerts());
    const list = $("alerts");
    const text = items.map((a) => a.kind + ":" + a.text).join("|");
    if (list.dataset.text !== text) {
      list.dataset.text = text;
      list.replaceChildren(...(items.length ? items.map((a) => el("li", { class: a.kind }, a.text))
        : [el("li", { class: "calm" }, t("no_alerts"))]));
    }
  }

  /** The store cannot write (disk full) or cannot be reached: first on the list. */
  function storeAlerts() {
    if (state.storeDown) return [{ text: t("store_down_alert"), kind: "alert store" }];
    const problem = state.report && state.report.store_problem;
    if (!problem) return [];
    const since = problem.since ? new Date(problem.since).toLocaleTimeString(SP.lang === "en" ? "en-GB" : "id-ID",
      { hour: "2-digit", minute: "2-digit" }) : "";
    return [{ text: t("store_alert", { since }), kind: "alert store" }];
  }

  function renderChart() {
    const report = state.report;
    if (!report || typeof Chart !== "function") return;
    const hours = report.hourly.hours;
    const datasets = state.services.map((s) => ({
      label: s.prefix + " " + SP.serviceName(s),
      data: report.hourly.issued[s.id] || [],
      backgroundColor: s.colour,
      maxBarThickness: 64,
    }));
    if (!state.chart) {
      state.chart = new Chart($("hourly-chart"), {
        type: "bar",
        data: { labels: hours, datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: "bottom" }, title: { display: false, text: t("chart_title") } },
        },
      });
    } else {
      state.chart.data.labels = hours;
      state.chart.data.datasets = datasets;
      state.chart.update();
    }
  }

  function renderWaits() {
    const report = state.report;
    if (!report || typeof Chart !== "function" || !report.hourly.mean_wait_s) return;
    const today = Object.fromEntries(report.services.map((f) => [f.id, f.mean_wait_s]));
    const inMinutes = (list) => (list || []).map((s) => (s === null ? null : Math.round(s / 6) / 10));
    const datasets = state.services.map((s) => ({
      label: s.prefix + " " + SP.serviceName(s) +
        (today[s.id] !== null && today[s.id] !== undefined ? " (" + t("wait_today", { wait: minutes(today[s.id]) }) + ")" : ""),
      data: inMinutes(report.hourly.mean_wait_s[s.id]),
      borderColor: s.colour, backgroundColor: s.colour, spanGaps: true, tension: 0.2,
    }));
    datasets.push({ label: t("wait_all"), data: inMinutes(report.hourly.mean_wait_all_s),
      borderColor: "#212121", backgroundColor: "#212121", borderDash: [6, 4], borderWidth: 3, spanGaps: true });
    if (!state.waitsChart) {
      state.waitsChart = new Chart($("waits-chart"), {
        type: "line",
        data: { labels: report.hourly.hours, datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: t("minutes_axis") } } },
          plugins: { legend: { position: "bottom" }, title: { display: false, text: t("waits_title") } },
        },
      });
    } else {
      state.waitsChart.data.labels = report.hourly.hours;
      state.waitsChart.data.datasets = datasets;
      state.waitsChart.update();
    }
  }

  async function loadReport() {
    try {
      state.report = await api("GET", "/reports/today");
      state.storeDown = false;
      renderServices();
      renderChart();
      renderWaits();
    } catch (err) {
      if (err.status === 503) {
        state.storeDown = true;
        renderServices();
      } else if (err.status) SP.say(SP.errorText(err));
      SP.bug(err);
    }
  }
  const reportSoon = SP.throttle(loadReport, 3000);

  function tick() {
    for (const span of document.querySelectorAll(".counter-card .elapsed[data-since]")) {
      if (span.dataset.since) span.textContent = SP.elapsed(span.dataset.since);
    }
    renderServices();
  }

  // -- users ----------------------------------------------------------------

  async function loadUsers() {
    const data = await SP.attempt(() => api("GET", "/users"));
    if (!data || data === true) return;
    state.users = data.users;
    $("user-rows").replaceChildren(
      ...data.users.map((u) => el("tr", { dataset: { user: u.username } },
        el("td", {}, u.username),
        el("td", {}, t("role_" + u.role)),
        el("td", {}, u.kiosk || ""),
        el("td", {}, el("button", { type: "button", "aria-label": t("remove") + " " + u.username,
          onclick: () => removeUser(u.username) }, t("remove"))))),
    );
  }

  async function removeUser(name) {
    if (!window.confirm(t("remove_confirm", { name }))) return;
    const done = await SP.attempt(() => api("DELETE", "/users/" + encodeURIComponent(name)));
    if (done) {
      SP.say(t("user_removed", { name }), "ok");
      loadUsers();
    }
  }

  // Only a kiosk account is bound to a kiosk device: show the choice for that role.
  function showKioskChoice() {
    const form = $("user-form");
    form.querySelector(".user-kiosk").hidden = form.role.value !== "kiosk";
  }
  $("user-form").role.addEventListener("change", showKioskChoice);
  showKioskChoice();

  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    const name = form.username.value.trim();
    const body = { role: form.role.value, password: form.password.value,
      kiosk: form.role.value === "kiosk" ? form.kiosk.value : "" };
    const exists = (state.users || []).some((u) => u.username === name);
    const done = await SP.attempt(() => exists
      ? api("PUT", "/users/" + encodeURIComponent(name), body)
      : api("POST", "/users", Object.assign({ username: name }, body)));
    if (done) {
      SP.say(t("user_saved", { name }), "ok");
      form.reset();
      showKioskChoice();
      loadUsers();
    }
  });

  // -- live -----------------------------------------------------------------

  $("logout").addEventListener("click", () => SP.logout());

  (async function start() {
    const me = await SP.requireLogin(["manager"]);
    $("who").textContent = me.username;
    SP.live({
      rooms: ["manager"],
      onSnapshot(snapshot) {
        state.services = snapshot.services || [];
        state.byId = Object.fromEntries(state.services.map((s) => [s.id, s]));
        state.counters = snapshot.counters || [];
        for (const key of Object.keys(cardCache)) delete cardCache[key];
        renderCounters();
        renderServices();
        loadReport();
        SPCatalogue.load(); // with each service's source and the catalogue version
        SPPrinters.load(); // printer events carry no seq: read the states again after a reconnect
      },
      onServices(services, version) { // a manager edited the catalogue (maybe this one)
        state.services = services;
        state.byId = Object.fromEntries(services.map((s) => [s.id, s]));
        for (const key of Object.keys(cardCache)) delete cardCache[key];
        renderCounters();
        renderServices();
        SPCatalogue.show(services, version);
        loadReport();
      },
      extraEvents: ["printer_status", "print_failed"],
      onEvent(name, data) {
        if (name === "printer_status" || name === "print_failed") {
          SPPrinters.onEvent(name, data);
          renderServices(); // the alert list
          return;
        }
        if (name === "counter_updated" && data.counter) setCounter(data.counter);
        else if (name === "queue_updated") {
          for (const [id, summary] of Object.entries(data.services || {})) {
            if (state.byId[id]) Object.assign(state.byId[id], summary);
          }
          renderServices();
        }
        if (name !== "counter_updated") reportSoon();
      },
    });
    loadUsers();
    setInterval(tick, 1000);
    setInterval(loadReport, REPORT_EVERY_MS);
  })();
})();
