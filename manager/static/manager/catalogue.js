/* Manager's catalogue editor: names, prefix, colour, times, quota, enabled and the published
 * standard items of each service (PATCH/POST /services, DELETE /services/<id>/override).
 * manager.js hands it the services whenever they change (SPCatalogue.show). */
(function () {
  "use strict";
  const { t, api, el } = SP;
  const $ = (id) => document.getElementById(id);
  const form = $("service-form");
  const EDITABLE = ["prefix", "name", "colour", "target_wait_min", "service_time_min", "daily_quota",
    "enabled", "standard"];
  const STANDARD = ["requirements", "procedure", "processing_time", "fee", "fee_basis", "product", "complaint"];
  const LINES = ["requirements", "procedure"];
  const NEW_SERVICE = { prefix: "", name: { id: "", en: "" }, colour: "#455A64", target_wait_min: 15,
    service_time_min: 10, daily_quota: 0, enabled: true, source: "added",
    standard: { requirements: [], procedure: [], processing_time: "", fee: "Gratis", fee_basis: "",
      product: "", complaint: "" } };

  // editing: {id (null for a new one), version the form was filled at, the service as filled}
  const state = { services: [], version: 0, editing: null, dirty: false, busy: false };

  /** The editable part of a service, to tell whether someone else changed it. */
  function editable(s) {
    return JSON.stringify(EDITABLE.map((k) => (k === "standard"
      ? STANDARD.map((n) => (s.standard || {})[n]) : s[k])));
  }

  function renderList() {
    const selected = state.editing ? state.editing.id : undefined;
    $("catalogue-list").replaceChildren(
      ...state.services.map((s) => {
        const badge = s.enabled === false ? t("disabled") : s.source === "config" ? "" : t("source_" + s.source);
        return el("li", {}, el("button", { type: "button", style: { "--service": s.colour },
          "aria-pressed": String(selected === s.id), dataset: { service: s.id }, onclick: () => open(s.id) },
        el("span", { class: "prefix" }, s.prefix), " ", SP.serviceName(s),
        badge ? el("span", { class: "badge" }, badge) : null));
      }),
      el("li", {}, el("button", { type: "button", class: "new", id: "catalogue-new",
        "aria-pressed": String(selected === null), onclick: () => open(null) }, "+ " + t("new_service"))),
    );
  }

  function field(name) {
    return form.elements.namedItem(name);
  }

  function fill(service) {
    const adding = !service.id;
    form.classList.toggle("adding", adding);
    $("service-form-title").textContent = adding ? t("new_service") : t("edit_title", { name: SP.serviceName(service) });
    $("service-source").textContent = adding ? "" : t("source_" + service.source + "_text");
    field("id").value = service.id || "";
    field("name.id").value = service.name.id || "";
    field("name.en").value = service.name.en || "";
    for (const name of ["prefix", "colour", "target_wait_min", "service_time_min", "daily_quota"]) {
      field(name).value = String(service[name]);
    }
    field("colour").value = service.colour.toLowerCase();
    field("enabled").checked = service.enabled !== false;
    for (const name of STANDARD) {
      const value = service.standard[name];
      field("standard." + name).value = LINES.includes(name) ? (value || []).join("\n") : value || "";
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    $("service-reset").hidden = service.source !== "edited";
    state.dirty = false;
  }

  function open(serviceId) {
    const service = serviceId === null ? NEW_SERVICE : state.services.find((s) => s.id === serviceId);
    if (!service) return;
    state.editing = { id: serviceId, version: state.version, base: editable(service) };
    fill(service);
    form.hidden = false;
    renderList();
    field(serviceId === null ? "id" : "name.id").focus();
  }

  function close() {
    state.editing = null;
    form.hidden = true;
    renderList();
  }

  /** A whole number as a number; anything else as typed (the API names the field). */
  function whole(text) {
    return /^-?\d+$/.test(text.trim()) ? parseInt(text, 10) : text;
  }

  function body() {
    const standard = {};
    for (const name of STANDARD) {
      const value = field("standard." + name).value;
      standard[name] = LINES.includes(name) ? value.split("\n").map((x) => x.trim()).filter(Boolean) : value.trim();
    }
    const data = {
      version: state.editing.version,
      prefix: field("prefix").value.trim().toUpperCase(),
      name: { id: field("name.id").value.trim(), en: field("name.en").value.trim() },
      colour: field("colour").value.toUpperCase(),
      target_wait_min: whole(field("target_wait_min").value),
      service_time_min: whole(field("service_time_min").value),
      daily_quota: whole(field("daily_quota").value),
      enabled: field("enabled").checked,
      standard,
    };
    if (state.editing.id === null) data.id = field("id").value.trim();
    return data;
  }

  /** Point at the input the API blamed ("standard.requirements[2]" -> the requirements box). */
  function blame(err) {
    let name = (err.body && err.body.field) || "";
    name = name.replace(/\[\d+\]$/, "");
    if (name === "name") name = "name.id";
    const input = name && field(name);
    if (!input || !input.labels) return SP.say(SP.errorText(err));
    input.setAttribute("aria-invalid", "true");
    input.focus();
    const label = input.labels[0].textContent.trim();
    SP.say(t("field_error", { field: label, message: err.message }));
  }

  async function send(method, path, payload) {
    if (state.busy) return null;
    state.busy = true;
    try {
      return await api(method, path, payload);
    } catch (err) {
      SP.bug(err);
      if (err.code === "catalogue_changed") {
        SP.say(SP.errorText(err));
        await load(true);
      } else if (err.body && err.body.field) {
        blame(err); // 400 for a broken rule, 409 for an id or prefix another service has
      } else {
        SP.say(SP.errorText(err));
      }
      return null;
    } finally {
      state.busy = false;
    }
  }

  /** After a write: the answer is the service as stored; the list follows on catalogue_updated. */
  function saved(result, message) {
    const s = result.service;
    const i = state.services.findIndex((x) => x.id === s.id);
    if (i >= 0) state.services[i] = s;
    else state.services.push(s);
    state.version = Math.max(state.version, result.version);
    state.editing = { id: s.id, version: result.version, base: editable(s) };
    fill(s);
    renderList();
    SP.say(t(message, { name: SP.serviceName(s) }), "ok");
  }

  form.addEventListener("input", (e) => {
    state.dirty = true;
    e.target.removeAttribute("aria-invalid");
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.editing) return;
    const id = state.editing.id;
    const adding = id === null;
    const result = await send(adding ? "POST" : "PATCH",
      adding ? "/services" : "/services/" + encodeURIComponent(id), body());
    if (result) saved(result, adding ? "service_added" : "service_saved");
  });

  $("service-reset").addEventListener("click", async () => {
    const s = state.editing && state.services.find((x) => x.id === state.editing.id);
    if (!s || !window.confirm(t("reset_confirm", { name: SP.serviceName(s) }))) return;
    const path = `/services/${encodeURIComponent(s.id)}/override?version=${state.editing.version}`;
    const result = await send("DELETE", path);
    if (result) saved(result, "service_reset");
  });

  $("service-cancel").addEventListener("click", close);

  /** New services from the server (page start, catalogue_updated, after a conflict). */
  function show(services, version, reloadForm) {
    state.services = services;
    state.version = Math.max(state.version, version || 0);
    const editing = state.editing;
    if (editing && editing.id !== null) {
      const now = services.find((s) => s.id === editing.id);
      if (now && (reloadForm || !state.dirty)) {
        state.editing = { id: now.id, version: state.version, base: editable(now) };
        fill(now);
      } else if (now && editable(now) === editing.base) {
        editing.version = state.version; // only other services changed: the typing stays valid
      }
    }
    renderList();
  }

  async function load(reloadForm) {
    const data = await SP.attempt(() => api("GET", "/services"));
    if (data && data.services) show(data.services, data.version, reloadForm);
  }

  window.SPCatalogue = { show, load };
})();
