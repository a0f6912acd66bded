/* The citizen's ticket page: live status of one ticket, loud when it is called. */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const root = document.getElementById("ticket");
  const ticketId = root.dataset.ticket;
  let service = root.dataset.service;
  let lastStatus = null;
  let lastCallKey = null;
  let services = {};
  let live = null;
  // Where this ticket stands in its service's line: its place [priority 0 / normal 1, sort key]
  // and the people ahead, from the last GET; line_changed moves keep `ahead` current.
  let place = null;
  let ahead = null;
  let aheadSeq = 0; // the branch seq the people-ahead count is exact at
  const recentMoves = []; // line_changed events kept to replay after a GET that was older

  const $ = (id) => document.getElementById(id);

  function counterName(ticket) {
    return ticket.counter_name || (ticket.counter ? "Loket " + ticket.counter : "");
  }

  function render(data) {
    const ticket = data.ticket || data;
    const status = ticket.status;
    document.body.className = document.body.className.replace(/status-\S+/, "status-" + status);
    const removed = root.dataset.removed === "1";
    $("status").textContent = t("status_" + status + (status === "expired" && removed ? "_removed" : ""));
    const waiting = status === "waiting" || status === "parked";
    $("waiting-facts").hidden = !waiting;
    // Being told of the call only makes sense before it: not once called, served or ended.
    $("notify-button").hidden = !waiting || notificationsOn();
    if (ticket.place) place = ticket.place;
    lastStatus = status;
    if (status === "waiting" && data.people_ahead !== undefined) {
      showPosition(data.people_ahead, data.estimated_wait_s);
      aheadSeq = data.seq || 0;
      // Moves the server had not counted yet when it answered (the GET is a moment old).
      for (const moved of recentMoves) if (moved.seq > aheadSeq) lineChanged(moved, true);
    }
    const callBox = $("call-box");
    if (status === "called") {
      $("call-text").textContent = t("go_to", { counter: counterName(ticket) });
      callBox.hidden = false;
    } else if (status === "serving") {
      $("call-text").textContent = t("serving_at", { counter: counterName(ticket) });
      callBox.hidden = false;
    } else {
      callBox.hidden = true;
    }
    if (ticket.service && ticket.service !== service) { // transferred: follow the new line
      if (live) live.leave("line:" + service);
      service = ticket.service;
      if (live) live.join("line:" + service);
      if (services[service]) $("service-name").textContent = SP.serviceName(services[service]);
    }
  }

  function notificationsOn() {
    return "Notification" in window && Notification.permission === "granted";
  }

  function showPosition(n, wait) {
    ahead = n;
    $("people-ahead").textContent = n === undefined || n === null ? "–" : n;
    $("estimated-wait").textContent = SP.waitText(wait);
  }

  /** Is place `a` before place `b` in the line (priority first, then sort key)? */
  const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

  /** Tickets joined or left this ticket's line: count those ahead of it, no request needed. */
  function lineChanged(data, replay) {
    if (!replay) {
      recentMoves.push(data);
      if (recentMoves.length > 200) recentMoves.shift();
    }
    if (data.service !== service || lastStatus !== "waiting" || !place || ahead === null) return;
    if (data.seq <= aheadSeq) return; // already counted in the last GET
    aheadSeq = data.seq;
    let delta = 0;
    for (const [p, k, d] of data.moves || []) if (before([p, k], place)) delta += d;
    const n = Math.max(0, ahead + delta);
    // The line's estimate is for all `waiting`; a share of it for the people ahead of us.
    const wait = data.estimated_wait_s === null || data.estimated_wait_s === undefined ? null
      : data.waiting > 0 ? Math.round((n * data.estimated_wait_s) / data.waiting) : 0;
    showPosition(n, wait);
  }

  function alertCalled(ticket, recall) {
    const key = ticket.called_at + "/" + (ticket.recalls || 0);
    if (key === lastCallKey && !recall) return;
    lastCallKey = key;
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    const text = t("go_to", { counter: counterName(ticket) });
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        new Notification(t("notify_title", { number: ticket.number }), { body: text, tag: ticketId });
      } catch (err) {
        /* some phones allow notifications only from a service worker: the page still shows it */
      }
    }
    $("call-box").classList.remove("flash-in");
    void $("call-box").offsetWidth; // restart the highlight animation
    $("call-box").classList.add("flash-in");
  }

  async function refresh() {
    try {
      const data = await api("GET", "/tickets/" + encodeURIComponent(ticketId));
      const before = lastStatus;
      render(data);
      const ticket = data.ticket || data;
      if (ticket.status === "called" && before !== null && before !== "called") alertCalled(ticket, false);
      SP.say("");
    } catch (err) {
      if (err.status) SP.say(SP.errorText(err));
      SP.bug(err);
    }
  }
  const refreshSoon = SP.throttle(refresh, 1000);
  // A safety net only (the moves keep the count exact): re-read now and then, spread out.
  setInterval(refresh, 120000 + Math.floor(Math.random() * 60000));

  $("notify-button").addEventListener("click", async () => {
    if (!("Notification" in window)) {
      $("notify-state").textContent = t("notify_denied");
      return;
    }
    const permission = await Notification.requestPermission();
    $("notify-state").textContent = permission === "granted" ? t("notify_on") : t("notify_denied");
    if (permission === "granted") $("notify-button").hidden = true;
  });
  if ("Notification" in window && Notification.permission === "granted") $("notify-button").hidden = true;

  live = SP.live({
    // Its own ticket's events and its own line's moves: not every event of the office.
    rooms: ["ticket:" + ticketId, "line:" + service],
    onSnapshot(snapshot) {
      for (const s of snapshot.services || []) services[s.id] = s;
      refresh();
    },
    onServices(list) { // a manager renamed the service (the standard shown is the one issued under)
      for (const s of list) services[s.id] = s;
      if (services[service]) $("service-name").textContent = SP.serviceName(services[service]);
    },
    onEvent(name, data) {
      if (name === "ticket_called" || name === "ticket_updated") {
        if (data.ticket && data.ticket.id === ticketId) {
          render({ ticket: data.ticket });
          if (name === "ticket_called") alertCalled(data.ticket, data.recall);
          refreshSoon();
        }
      } else if (name === "line_changed") {
        lineChanged(data);
      }
    },
  });
})();
