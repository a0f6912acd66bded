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
    if (status === "waiting") {
      const ahead = data.people_ahead !== undefined ? data.people_ahead : ticket.people_ahead;
      const wait = data.estimated_wait_s !== undefined ? data.estimated_wait_s : ticket.estimated_wait_s;
      $("people-ahead").textContent = ahead === undefined || ahead === null ? "–" : ahead;
      $("estimated-wait").textContent = SP.waitText(wait);
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
    if (ticket.service && ticket.service !== service) {
      service = ticket.service;
      if (services[service]) $("service-name").textContent = SP.serviceName(services[service]);
    }
    lastStatus = status;
  }

  function notificationsOn() {
    return "Notification" in window && Notification.permission === "granted";
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

  SP.live({
    rooms: ["ticket:" + ticketId, "display"],
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
      } else if (name === "queue_updated") {
        if (lastStatus === "waiting" && data.services && data.services[service]) refreshSoon();
      }
    },
  });
})();
