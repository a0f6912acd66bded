/* satupintu: helpers shared by every page (API calls, live events, texts, formatting). */
(function () {
  "use strict";

  const strings = JSON.parse(document.getElementById("strings").textContent || "{}");
  const lang = document.documentElement.lang === "en" ? "en" : "id";

  /** The page text `key`, with {name} / %(name)s placeholders filled from `params`. */
  function t(key, params) {
    let text = strings[key] !== undefined ? strings[key] : key;
    for (const [name, value] of Object.entries(params || {})) {
      text = text.split("%(" + name + ")s").join(String(value)).split("{" + name + "}").join(String(value));
    }
    return text;
  }

  /** A refusal or failure from the API, carrying its code and the server's message. */
  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status;
      this.code = code;
      this.body = body || {};
    }
  }

  /** Call /api/v1: resolves with the JSON body (undefined for 204), rejects with ApiError. */
  async function api(method, path, body, headers) {
    const init = { method, credentials: "same-origin",
      headers: Object.assign({ Accept: "application/json" }, headers || {}) };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("/api/v1" + path, init);
    } catch (err) {
      throw new ApiError(0, "network", t("network_error"));
    }
    if (response.status === 204) return undefined;
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const code = (data && data.error) || "http_" + response.status;
      const message = (data && data.message) || t("error");
      throw new ApiError(response.status, code, message, data);
    }
    return data;
  }

  /** Show a message to the user in the page's alert region (errors stay until replaced). */
  function say(message, kind) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = message;
    box.className = "flash flash-" + (kind || "error");
    box.hidden = !message;
    clearTimeout(say.timer);
    if (message && kind === "ok") say.timer = setTimeout(() => (box.hidden = true), 4000);
  }

  /** What to tell the user about a refusal: our text for its code, else the server's message. */
  function errorText(err) {
    if (!(err instanceof ApiError)) return t("error");
    const key = "err_" + err.code;
    if (lang !== "en" && strings[key] !== undefined) return strings[key];
    return err.message || t("error");
  }

  /** Run an async action; show the refusal if any. Resolves to its result (true for none) or null. */
  async function attempt(action) {
    try {
      const result = await action();
      return result === undefined ? true : result;
    } catch (err) {
      say(errorText(err));
      bug(err);
      return null;
    }
  }

  /** A caught error that is not the API's answer is a bug: let it surface as uncaught. */
  function bug(err) {
    if (!(err instanceof ApiError)) setTimeout(() => { throw err; });
  }

  /** Make an element: el("div", {class: "x", onclick: fn}, "text", child, ...). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "style" && typeof value === "object") {
        for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, v); // --vars too
      }
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A service's name in the page language. */
  function serviceName(service) {
    if (!service) return "";
    const name = service.name || {};
    return (lang === "en" && name.en) || name.id || service.id;
  }

  /** Seconds of estimated wait as words: "± 12 menit", "kurang dari 1 menit". */
  function waitText(seconds) {
    if (seconds === null || seconds === undefined) return t("no_estimate");
    if (seconds < 60) return t("under_a_minute");
    return t("minutes", { n: Math.round(seconds / 60) });
  }

  /** "mm:ss" (or "h:mm:ss") since an ISO time. */
  function elapsed(iso, now) {
    if (!iso) return "";
    let s = Math.max(0, Math.floor(((now || Date.now()) - Date.parse(iso)) / 1000));
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s - m * 60);
  }

  /** The signed-in user, or a redirect to the login page if not one of `roles`. */
  async function requireLogin(roles) {
    let me = null;
    try {
      me = await api("GET", "/auth/me");
    } catch (err) {
      if (err.status !== 401 && err.status !== 403) throw err;
    }
    const role = me && (me.role || (me.user && me.user.role));
    if (!me) {
      const next = location.pathname + location.search;
      location.assign("/login?next=" + encodeURIComponent(next));
      return new Promise(() => {}); // the page is going away
    }
    if (roles && !roles.includes(role)) {
      wrongRole(me.username || (me.user && me.user.username) || "", role, roles);
      return new Promise(() => {}); // this page is not theirs: it stays on the message
    }
    return me;
  }

  /** Signed in, but not with a role this page is for: say so instead of a silent bounce. */
  function wrongRole(name, role, roles) {
    const home = { manager: "/manager", clerk: "/counter", kiosk: "/kiosk" }[role] || "/";
    const main = document.getElementById("main");
    const names = roles.map((r) => t("page_for_" + r)).join(" " + t("or") + " ");
    main.replaceChildren(el("section", { class: "page stack wrong-role", role: "alert" },
      el("h1", {}, t("wrong_role", { roles: names, name, role: t("page_for_" + role) })),
      el("p", {},
        el("a", { class: "button primary", href: home }, t("wrong_role_home")), " ",
        el("button", { type: "button", onclick: () => logout() }, t("wrong_role_login")))));
    document.body.dataset.wrongRole = role;
  }

  async function logout() {
    await attempt(() => api("POST", "/auth/logout"));
    location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
  }

  /** The events of the branch (satupintu/events.py's ALL, rendered into the page by base.html). */
  const EVENTS = JSON.parse(document.getElementById("live-events").textContent || "[]");

  /**
   * A full-screen "server unreachable" notice once the connection has been down for
   * UNREACHABLE_AFTER_MS (a blip shows only the badge); it goes away by itself on
   * reconnect, so a kiosk or hall TV recovers from a server restart with nobody there.
   * Both languages: the page's first, since the server that has the translations is down.
   */
  const UNREACHABLE_AFTER_MS = 3000;
  let unreachableTimer = null;
  function unreachable(online) {
    let el = document.getElementById("server-unreachable");
    clearTimeout(unreachableTimer);
    if (online) {
      if (el) el.style.display = "none";
      return;
    }
    unreachableTimer = setTimeout(() => {
      if (!el) {
        const texts = [["Server tidak dapat dihubungi", "Menyambung ulang otomatis, mohon tunggu…"],
          ["Server unreachable", "Reconnecting automatically, please wait…"]];
        if ((document.documentElement.lang || "id").startsWith("en")) texts.reverse();
        el = document.createElement("div");
        el.id = "server-unreachable";
        el.setAttribute("role", "alert");
        el.style.cssText = "position:fixed;inset:0;z-index:10000;display:flex;flex-direction:column;" +
          "align-items:center;justify-content:center;gap:.5em;text-align:center;padding:1em;" +
          "background:rgba(20,20,20,.92);color:#fff;font:600 clamp(20px,4vw,56px)/1.3 sans-serif";
        texts.forEach(([title, line], i) => {
          const h = document.createElement(i ? "p" : "h1");
          h.textContent = title;
          h.style.cssText = i ? "margin:1em 0 0;font-size:.6em;opacity:.8" : "margin:0;font-size:1em";
          const p = document.createElement("p");
          p.textContent = line;
          p.style.cssText = "margin:0;font-size:" + (i ? ".45em;opacity:.8" : ".6em");
          el.append(h, p);
        });
        document.body.append(el);
      }
      el.style.display = "flex";
    }, UNREACHABLE_AFTER_MS);
  }

  /**
   * Live updates that never miss one: join `rooms`, load the snapshot, then apply events
   * in seq order. On (re)connect, or a gap in the frames of a room that gets every change,
   * the snapshot is fetched again.
   * The server sends one `changes` frame per change per room (wire format 2, README
   * "Live updates"): {v, room, all, first, seq, events: [{event, seq, ...}]}. `all` frames
   * (display, manager) come for every change, so `first` beyond the last seq + 1 is a gap.
   * An event that reaches the page through two rooms is applied once (by its seq).
   * `gapless`: false to never resync on a gap (pages with no `all` room never see one).
   * Callbacks: onSnapshot(snapshot, resync), onEvent(name, data), onStatus(online),
   * onServices(services, version): the catalogue again after a manager edited it
   * (`catalogue_updated`; GET /services, at least at the event's version).
   * `extraEvents`: more event names to listen for (events without seq pass straight through).
   */
  function live(options) {
    const opts = Object.assign({ rooms: ["display"], gapless: true }, options);
    opts.rooms = opts.rooms.slice();
    // seq: the snapshot's, then the last of the `all` frames applied; applied: seqs applied
    // since the snapshot from any room (an event comes once per room the page is in).
    const state = { seq: null, base: null, applied: new Set(), online: false, loading: null,
      pending: [], socket: null, catalogue: 0 };
    const badge = document.getElementById("offline-badge");

    function setOnline(online) {
      state.online = online;
      if (!online) delete document.body.dataset.synced;
      document.body.classList.toggle("is-offline", !online);
      if (badge) badge.hidden = online;
      unreachable(online);
      if (opts.onStatus) opts.onStatus(online);
    }

    async function resync(why) {
      if (state.loading) return state.loading;
      state.loading = (async () => {
        for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
          let snapshot;
          try {
            snapshot = await api("GET", "/snapshot");
          } catch (err) {
            await new Promise((r) => setTimeout(r, delay));
            continue;
          }
          const first = state.seq === null;
          state.seq = snapshot.seq;
          state.base = snapshot.seq;
          state.applied.clear();
          if (opts.onSnapshot) opts.onSnapshot(snapshot, !first, why);
          document.body.dataset.synced = String(snapshot.seq); // for people debugging, and tests
          return snapshot;
        }
      })();
      try {
        return await state.loading;
      } finally {
        state.loading = null;
        // Frames that arrived while the snapshot was loading.
        const queued = state.pending.splice(0);
        queued.sort((a, b) => (a.seq || 0) - (b.seq || 0));
        for (const frame of queued) handleFrame(frame);
      }
    }

    /** The services at `version` or later (another server may answer from a cache up to 1 s old). */
    async function reloadServices(version) {
      for (let attempt = 0; attempt < 10; attempt++) {
        let data = null;
        try {
          data = await api("GET", "/services");
        } catch (err) {
          bug(err);
        }
        if (data && data.version >= version) {
          if (data.version < state.catalogue) return; // a later reload already applied a newer one
          state.catalogue = data.version;
          if (opts.onServices) opts.onServices(data.services, data.version);
          return;
        }
        await new Promise((r) => setTimeout(r, 300 + 200 * attempt));
      }
    }

    function apply(name, data) {
      if (name === "catalogue_updated") reloadServices(data.version || 0);
      if (opts.onEvent) opts.onEvent(name, data);
    }

    function handleFrame(frame) {
      if (state.loading || state.seq === null) {
        state.pending.push(frame);
        return;
      }
      if (frame.extra) { // an event outside the branch sequence (printing)
        apply(frame.name, frame.data);
        return;
      }
      if (frame.all && frame.seq <= state.seq) return; // already in the snapshot, or applied
      if (frame.all && opts.gapless && frame.first > state.seq + 1) {
        state.pending.push(frame);
        resync("gap");
        return;
      }
      for (const event of frame.events || []) {
        if (event.seq <= state.base || state.applied.has(event.seq)) continue;
        state.applied.add(event.seq);
        apply(event.event, event);
      }
      if (frame.all) state.seq = Math.max(state.seq, frame.seq);
      if (state.applied.size > 2000) { // keep the recent ones: older seqs cannot come again
        const keep = [...state.applied].sort((a, b) => a - b).slice(-1000);
        state.applied = new Set(keep);
        state.base = Math.max(state.base, keep[0] - 1);
      }
    }

    const socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 3000 });
    state.socket = socket;
    socket.on("connect", () => {
      for (const room of opts.rooms) socket.emit("join", { room });
      setOnline(true);
      resync(state.seq === null ? "start" : "reconnect");
    });
    socket.on("disconnect", () => setOnline(false));
    socket.on("connect_error", () => setOnline(false));
    socket.on("changes", handleFrame);
    for (const name of opts.extraEvents || []) {
      socket.on(name, (data) => handleFrame({ extra: true, name, data, seq: 0 }));
    }
    socket.on("error", (data) => data && data.message && say(data.message));
    setOnline(false);
    return {
      socket,
      resync,
      /** Join one more room now and after every reconnect; resolves with the join's answer. */
      join(room) {
        if (!opts.rooms.includes(room)) opts.rooms.push(room);
        if (!socket.connected) return Promise.resolve(null);
        return new Promise((resolve) => socket.emit("join", { room }, resolve));
      },
      /** Leave a room joined with `join` (and no longer join it after a reconnect). */
      leave(room) {
        opts.rooms = opts.rooms.filter((r) => r !== room);
        if (socket.connected) socket.emit("leave", { room });
      },
      get seq() {
        return state.seq;
      },
      get online() {
        return state.online;
      },
    };
  }

  /** Call `fn` at most once per `ms`, always with the latest call honoured. */
  function throttle(fn, ms) {
    let timer = null;
    let again = false;
    return function run() {
      if (timer) {
        again = true;
        return;
      }
      fn();
      timer = setTimeout(() => {
        timer = null;
        if (again) {
          again = false;
          run();
        }
      }, ms);
    };
  }

  window.SP = { t, lang, api, ApiError, errorText, say, attempt, bug, el, serviceName, waitText, elapsed,
    requireLogin, logout, live, throttle, strings, events: EVENTS };
})();
