/* IOC wall: map of open reports, KPI tiles, units with most overdue reports, live ticker.
 *
 * Plain ES2020, no build step, no third-party code. Everything comes from our own API:
 *   - /ioc/wards.json (public): ward centroids, the map's base layer;
 *   - /api/v1/ioc/reports?format=geojson&open=true: open reports, paged by next_cursor;
 *   - /api/v1/ioc/kpis: the tiles and the units list;
 *   - /api/v1/ioc/stream: Server-Sent Events, read with fetch() because EventSource cannot
 *     send Authorization or X-Api-Key headers.
 * Credentials: a staff bearer token (sessionStorage, 15 minutes) or a kiosk API key given
 * once as #key=... (localStorage). Without either, the sign-in form is shown.
 */
"use strict";

(() => {
  const body = document.body;
  const API = body.dataset.api || "/api/v1";
  const WARDS_URL = body.dataset.wards || "/ioc/wards.json";
  const TZ = "Asia/Ho_Chi_Minh";
  const KEY_STORE = "iocWall.apiKey";
  const STAFF_STORE = "iocWall.staff";
  const WALL_ROLES = ["dispatcher", "admin"];
  const CLOSED = new Set(["closed", "resolved", "rejected", "duplicate", "transferred_out"]);
  const SLA_ORDER = ["none", "on_time", "due_soon", "overdue"];  // later ones drawn on top
  const SLA_LABELS = {
    on_time: "Trong hạn", due_soon: "Sắp đến hạn", overdue: "Quá hạn", none: "Chưa tính hạn",
  };
  const EVENT_LABELS = {
    "report.created": "Phản ánh mới",
    "report.routed": "Chuyển đơn vị xử lý",
    "report.status_changed": "Đổi trạng thái",
    "sla.warning": "Sắp đến hạn",
    "sla.breached": "Quá hạn xử lý",
    "report.rated": "Người dân đánh giá",
  };
  const TICKER_MAX = 20;
  const UNITS_MAX = 10;
  const KPI_MIN_GAP_MS = 10_000;
  const KPI_PERIOD_MS = 60_000;
  const REPORTS_PERIOD_MS = 5 * 60_000;
  const STREAM_IDLE_MS = 45_000;  // the server sends a heartbeat every ~15 s
  const BACKOFF_MAX_MS = 60_000;
  const MAX_PAGES = 50;
  const SVG_NS = "http://www.w3.org/2000/svg";
  // Used until the ward list arrives (or if it cannot be read): the province's extent.
  const FALLBACK_BOUNDS = { minLon: 105.88, maxLon: 107.02, minLat: 21.0, maxLat: 21.62 };

  const $ = (id) => document.getElementById(id);

  function h(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal && signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); },
        { once: true });
    });
  }

  /* ---------- Formatting (Vietnam time, Vietnamese number style) ---------- */

  const numberFmt = new Intl.NumberFormat("vi-VN");
  const pctFmt = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
  const hmFmt = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const hmsFmt = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const dueFmt = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit",
    year: "numeric", hourCycle: "h23" });
  const dateFmt = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TZ, weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" });
  const isoDayFmt = new Intl.DateTimeFormat("en-CA", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

  function parts(fmt, date) {
    const out = {};
    for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
    return out;
  }

  function hhmm(date) {
    const p = parts(hmFmt, date);
    return `${p.hour}:${p.minute}`;
  }

  function hhmmss(date) {
    const p = parts(hmsFmt, date);
    return `${p.hour}:${p.minute}:${p.second}`;
  }

  function dueText(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "—";
    const p = parts(dueFmt, d);
    return `${p.hour}:${p.minute} ${p.day}/${p.month}/${p.year}`;
  }

  /** YYYY-MM-DD in Vietnam, `offset` days from today. */
  function vnDay(offset = 0) {
    const p = parts(isoDayFmt, new Date());
    const d = new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)));
    d.setUTCDate(d.getUTCDate() + offset);
    return d.toISOString().slice(0, 10);
  }

  function countText(v) {
    return typeof v === "number" && Number.isFinite(v) ? numberFmt.format(v) : "—";
  }

  function pctText(v) {
    return typeof v === "number" && Number.isFinite(v) ? `${pctFmt.format(v)}%` : "—";
  }

  function timeOf(iso) {
    const t = Date.parse(iso || "");
    return Number.isNaN(t) ? 0 : t;
  }

  /* ---------- Credentials ---------- */

  class AuthError extends Error {
    constructor(status, code) { super(`HTTP ${status}`); this.status = status; this.code = code; }
  }

  class HttpError extends Error {
    constructor(status, retryAfter) {
      super(`HTTP ${status}`); this.status = status; this.retryAfter = retryAfter;
    }
  }

  const auth = {
    staff: null,  // {token, expires_at, role}
    key: null,

    load() {
      try {
        this.key = localStorage.getItem(KEY_STORE) || null;
      } catch (e) { this.key = null; }
      try {
        const raw = sessionStorage.getItem(STAFF_STORE);
        const staff = raw ? JSON.parse(raw) : null;
        this.staff = staff && staff.token && timeOf(staff.expires_at) > Date.now() ? staff : null;
      } catch (e) { this.staff = null; }
      return this.kind() !== null;
    },

    kind() { return this.staff ? "staff" : (this.key ? "key" : null); },

    headers() {
      if (this.staff) return { Authorization: `Bearer ${this.staff.token}` };
      if (this.key) return { "X-Api-Key": this.key };
      return {};
    },

    setStaff(staff) {
      this.staff = staff;
      try { sessionStorage.setItem(STAFF_STORE, JSON.stringify(staff)); } catch (e) { /* private mode */ }
    },

    setKey(key) {
      this.key = key;
      try { localStorage.setItem(KEY_STORE, key); } catch (e) { /* kept for this page only */ }
    },

    dropStaff() {
      this.staff = null;
      try { sessionStorage.removeItem(STAFF_STORE); } catch (e) { /* ignore */ }
    },

    dropKey() {
      this.key = null;
      try { localStorage.removeItem(KEY_STORE); } catch (e) { /* ignore */ }
    },
  };

  /** A kiosk is set up once with /ioc#key=...: keep the key and clear it from the address bar. */
  function takeKeyFromFragment() {
    const fragment = location.hash.replace(/^#/, "");
    if (!fragment) return;
    const params = new URLSearchParams(fragment);
    if (!params.has("key")) return;
    const key = (params.get("key") || "").trim();
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    if (key) {
      auth.setKey(key);
      auth.dropStaff();
    }
  }

  async function api(path, signal) {
    const res = await fetch(API + path, {
      headers: { ...auth.headers(), Accept: "application/json" },
      cache: "no-store", credentials: "same-origin", signal,
    });
    if (res.status === 401 || res.status === 403) throw new AuthError(res.status, await errorCode(res));
    if (!res.ok) throw new HttpError(res.status, Number(res.headers.get("Retry-After")) || 0);
    return { body: await res.json(), date: timeOf(res.headers.get("Date")) };
  }

  async function errorCode(res) {
    try { return (await res.json()).code || ""; } catch (e) { return ""; }
  }

  /* ---------- Run: everything that happens while signed in ---------- */

  let run = null;

  function start() {
    stop();
    run = { ctrl: new AbortController(), timers: [] };
    const current = run;
    body.classList.remove("signed-out");
    body.classList.add("signed-in");
    $("wall").removeAttribute("aria-hidden");
    $("signout").hidden = false;
    live("wait", "Đang kết nối…");
    loadReports(current);
    loadKpis(current);
    stream.connect(current);
    current.timers.push(setInterval(() => kpisSoon(current), KPI_PERIOD_MS));
    current.timers.push(setInterval(() => loadReports(current), REPORTS_PERIOD_MS));
    if (auth.kind() === "staff") {
      const left = timeOf(auth.staff.expires_at) - Date.now();
      current.timers.push(setTimeout(() => {
        if (run === current) authFailed(new AuthError(401, "TOKEN_EXPIRED"));
      }, Math.max(0, Math.min(left, 2 ** 31 - 1))));
    }
  }

  function stop() {
    if (!run) return;
    run.ctrl.abort();
    for (const t of run.timers) { clearInterval(t); clearTimeout(t); }
    if (run.kpiTimer) clearTimeout(run.kpiTimer);
    run = null;
  }

  function live(state, text) {
    const node = $("live");
    node.className = `live live-${state}`;
    node.textContent = text;
    body.dataset.stream = state;
  }

  function showSignin(message) {
    stop();
    live("off", "Chưa kết nối");
    body.classList.remove("signed-in");
    body.classList.add("signed-out");
    $("wall").setAttribute("aria-hidden", "true");
    $("signout").hidden = true;
    $("signin-message").textContent = message || "";
  }

  /** A 401/403 on a data call: drop what failed and ask again (or fall back to the kiosk key). */
  function authFailed(err) {
    if (!run) return;
    if (auth.kind() === "staff") {
      auth.dropStaff();
      if (auth.key) { start(); return; }
      if (err.status === 403 && err.code === "FORBIDDEN") {
        showSignin("Tài khoản này không có quyền xem màn hình IOC.");
      } else if (err.status === 401 && err.code !== "TOKEN_EXPIRED") {
        showSignin("Phiên đăng nhập không còn hợp lệ. Vui lòng đăng nhập lại.");
      } else if (err.status === 403) {
        showSignin("Phiên đăng nhập không hợp lệ cho màn hình IOC. Vui lòng đăng nhập lại.");
      } else {
        showSignin("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.");
      }
    } else {
      auth.dropKey();
      showSignin("Khóa API không hợp lệ, đã bị thu hồi hoặc không dùng được cho màn hình IOC.");
    }
  }

  function failed(current, err) {
    if (current !== run || (err && err.name === "AbortError")) return true;
    if (err instanceof AuthError) { authFailed(err); return true; }
    return false;
  }

  function stamp() {
    $("updated").textContent = `Cập nhật ${hhmmss(new Date())}`;
  }

  /* ---------- Map ---------- */

  const map = {
    svg: $("map"),
    wardLayer: $("layer-wards"),
    pointLayer: $("layer-points"),
    groups: {},
    points: new Map(),  // code -> {props, lon, lat, asOf, node}
    gone: new Map(),    // code -> time it left the open set (from the stream)
    proj: null,
    wards: [],
    loaded: false,
    pinned: null,

    init() {
      for (const state of SLA_ORDER) {
        const g = svg("g", { class: `state-${state}` });
        this.groups[state] = g;
        this.pointLayer.appendChild(g);
      }
      this.project(FALLBACK_BOUNDS);
      this.pointLayer.addEventListener("pointerover", (e) => {
        const code = e.target.dataset && e.target.dataset.code;
        if (code && !this.pinned) this.tip(code, false);
      });
      this.pointLayer.addEventListener("pointerout", (e) => {
        if (e.target.dataset && e.target.dataset.code && !this.pinned) this.hideTip();
      });
      this.svg.addEventListener("click", (e) => {
        const code = e.target.dataset && e.target.dataset.code;
        if (code) { this.pin(code); e.stopPropagation(); } else { this.unpin(); }
      });
      document.addEventListener("keydown", (e) => { if (e.key === "Escape") this.unpin(); });
    },

    /** Equirectangular projection scaled by cos(latitude), fitted into a 1000-wide viewBox. */
    project(bounds) {
      const midLat = (bounds.minLat + bounds.maxLat) / 2;
      const k = Math.cos((midLat * Math.PI) / 180);
      const spanX = Math.max((bounds.maxLon - bounds.minLon) * k, 0.01);
      const spanY = Math.max(bounds.maxLat - bounds.minLat, 0.01);
      const pad = 0.05;
      const width = 1000;
      const scale = (width * (1 - 2 * pad)) / spanX;
      const height = spanY * scale + width * 2 * pad;
      this.proj = {
        x: (lon) => width * pad + (lon - bounds.minLon) * k * scale,
        y: (lat) => width * pad + (bounds.maxLat - lat) * scale,
        r: 7, wardR: 2.6,
      };
      this.svg.setAttribute("viewBox", `0 0 ${width} ${Math.round(height)}`);
      this.scaleBar(width * pad, height - width * pad * 0.45, scale / 111.32);
      for (const p of this.points.values()) this.place(p);
    },

    /** A 10 km bar in the bottom-left corner (`perKm`: viewBox units per kilometre). */
    scaleBar(x, y, perKm) {
      const layer = $("layer-scale");
      const length = 10 * perKm;
      layer.replaceChildren(
        svg("path", { class: "scale-bar", d: `M${x} ${y - 6}V${y}H${x + length}V${y - 6}` }),
        svg("text", { class: "scale-text", x: x + length + 8, y: y + 1 }));
      layer.lastChild.textContent = "10 km";
    },

    setWards(wards) {
      this.wards = wards;
      if (wards.length) {
        const lons = wards.map((w) => w.lon);
        const lats = wards.map((w) => w.lat);
        this.project({ minLon: Math.min(...lons), maxLon: Math.max(...lons),
          minLat: Math.min(...lats), maxLat: Math.max(...lats) });
      }
      this.wardLayer.replaceChildren();
      const { x, y, wardR } = this.proj;
      for (const w of wards) {
        const dot = svg("circle", { class: "ward-dot", cx: x(w.lon).toFixed(1),
          cy: y(w.lat).toFixed(1), r: wardR, "data-ward": w.code });
        const title = svg("title");
        title.textContent = w.name;
        dot.appendChild(title);
        this.wardLayer.appendChild(dot);
      }
    },

    place(p) {
      p.node.setAttribute("cx", this.proj.x(p.lon).toFixed(1));
      p.node.setAttribute("cy", this.proj.y(p.lat).toFixed(1));
    },

    state(props) {
      return SLA_ORDER.includes(props.sla_state) ? props.sla_state : "none";
    },

    /** Add, move or recolour a point; `asOf` is when its state was true. */
    upsert(code, props, lon, lat, asOf, flash) {
      if (typeof lon !== "number" || typeof lat !== "number") return;
      let p = this.points.get(code);
      if (!p) {
        const node = svg("circle", { class: "pt", r: this.proj.r, "data-code": code });
        p = { node };
        this.points.set(code, p);
      }
      Object.assign(p, { props, lon, lat, asOf });
      const state = this.state(props);
      p.node.setAttribute("class", `pt sla-${state}${p === this.pinnedPoint() ? " pinned" : ""}`);
      p.node.dataset.sla = state;
      this.place(p);
      if (p.node.parentNode !== this.groups[state]) this.groups[state].appendChild(p.node);
      if (flash) {
        p.node.classList.remove("flash");
        void p.node.getBoundingClientRect();  // restart the animation
        p.node.classList.add("flash");
      }
      if (this.pinned === code) this.tip(code, true);
    },

    remove(code) {
      const p = this.points.get(code);
      if (!p) return;
      p.node.remove();
      this.points.delete(code);
      if (this.pinned === code) this.unpin();
    },

    pinnedPoint() { return this.pinned ? this.points.get(this.pinned) : undefined; },

    /** The open set from a full snapshot taken at `asOf`; newer news from the stream wins. */
    reconcile(features, asOf) {
      const seen = new Set();
      for (const f of features) {
        const props = f.properties || {};
        const code = props.code || f.id;
        const coords = f.geometry && f.geometry.coordinates;
        if (!code || !coords) continue;
        seen.add(code);
        const current = this.points.get(code);
        if (current && current.asOf > asOf) continue;
        if ((this.gone.get(code) || 0) > asOf) continue;
        this.upsert(code, props, Number(coords[0]), Number(coords[1]), asOf, false);
      }
      for (const [code, p] of [...this.points]) {
        if (!seen.has(code) && p.asOf <= asOf) this.remove(code);
      }
      this.loaded = true;
      this.refresh();
    },

    /** A CloudEvent from the stream: the report's latest state, as of the event's time. */
    apply(ce) {
      const data = ce.data || {};
      const code = data.code || ce.subject;
      if (!code) return;
      const at = timeOf(ce.time) || Date.now();
      const current = this.points.get(code);
      if (current && current.asOf > at) return;  // the map already knows newer
      if (CLOSED.has(data.status)) {
        this.gone.set(code, at);
        this.remove(code);
      } else {
        if (!current && (this.gone.get(code) || 0) > at) return;
        this.gone.delete(code);
        this.upsert(code, data, Number(data.lon), Number(data.lat), at, true);
      }
      this.refresh();
    },

    refresh() {
      const counts = { on_time: 0, due_soon: 0, overdue: 0, none: 0 };
      for (const p of this.points.values()) counts[this.state(p.props)] += 1;
      for (const node of document.querySelectorAll("[data-legend]")) {
        node.textContent = numberFmt.format(counts[node.dataset.legend] || 0);
      }
      const total = this.points.size;
      $("map-count").textContent = this.loaded ? `${numberFmt.format(total)} phản ánh đang mở` : "";
      $("map-empty").hidden = !(this.loaded && total === 0);
      body.dataset.points = String(total);
    },

    tip(code, pinned) {
      const p = this.points.get(code);
      const tip = $("tip");
      if (!p) { this.hideTip(); return; }
      const props = p.props;
      const state = this.state(props);
      tip.replaceChildren();
      const head = h("div", "tip-head");
      head.append(h("span", "tip-code", code), " ", h("span", `badge sla-${state}`, SLA_LABELS[state]));
      const dl = h("dl");
      const rows = [
        ["Lĩnh vực", props.category_name || props.category_code],
        ["Đơn vị", props.unit_name || "Chưa phân công"],
        ["Địa bàn", props.ward_name],
        ["Trạng thái", props.status_label || props.status],
        ["Hạn xử lý", dueText(props.resolve_due_at)],
      ];
      for (const [label, value] of rows) {
        dl.append(h("dt", null, label), h("dd", null, value || "—"));
      }
      tip.append(head, dl);
      tip.classList.toggle("pinned", pinned);
      tip.dataset.code = code;
      tip.hidden = false;
      const wrap = $("map-wrap").getBoundingClientRect();
      const dot = p.node.getBoundingClientRect();
      const tw = tip.offsetWidth;
      const th = tip.offsetHeight;
      let left = dot.right - wrap.left + 12;
      let top = dot.top - wrap.top - th / 2;
      if (left + tw > wrap.width - 4) left = dot.left - wrap.left - tw - 12;
      left = Math.max(4, left);
      top = Math.min(Math.max(4, top), Math.max(4, wrap.height - th - 4));
      tip.style.left = `${Math.round(left)}px`;
      tip.style.top = `${Math.round(top)}px`;
    },

    hideTip() {
      const tip = $("tip");
      tip.hidden = true;
      tip.classList.remove("pinned");
      delete tip.dataset.code;
    },

    pin(code) {
      const previous = this.pinnedPoint();
      if (previous) previous.node.classList.remove("pinned");
      this.pinned = code;
      const p = this.points.get(code);
      if (p) p.node.classList.add("pinned");
      this.tip(code, true);
    },

    unpin() {
      const previous = this.pinnedPoint();
      if (previous) previous.node.classList.remove("pinned");
      this.pinned = null;
      this.hideTip();
    },
  };

  async function loadWards() {
    try {
      const res = await fetch(WARDS_URL, { credentials: "same-origin" });
      if (!res.ok) throw new HttpError(res.status);
      const data = await res.json();
      const wards = (data.wards || []).filter(
        (w) => typeof w.lat === "number" && typeof w.lon === "number");
      map.setWards(wards);
      body.dataset.wards = String(wards.length);
    } catch (e) {
      body.dataset.wards = "0";  // the points are still placed on the fallback extent
    }
  }

  async function loadReports(current) {
    const started = Date.now();
    try {
      const features = [];
      let cursor = null;
      let asOf = 0;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const query = "/ioc/reports?format=geojson&open=true&page_size=1000"
          + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
        const { body: fc, date } = await api(query, current.ctrl.signal);
        if (page === 0) asOf = (date || started) - 1000;  // the server's clock, not the kiosk's
        features.push(...(fc.features || []));
        cursor = fc.next_cursor || null;
        if (!cursor) break;
      }
      if (current !== run) return;
      map.reconcile(features, asOf);
      $("map-error").hidden = true;
      body.dataset.reports = "ready";
      stamp();
    } catch (err) {
      if (failed(current, err)) return;
      body.dataset.reports = "error";
      if (!map.loaded) {
        $("map-error").textContent = "Không tải được danh sách phản ánh. Đang thử lại…";
        $("map-error").hidden = false;
        current.timers.push(setTimeout(() => { if (run === current) loadReports(current); }, 15_000));
      }
    }
  }

  /* ---------- KPI tiles and units ---------- */

  function setTile(name, text, raw, state) {
    const value = document.querySelector(`[data-kpi="${name}"] .value`);
    value.textContent = text;
    value.dataset.state = state;
    value.dataset.value = raw === null || raw === undefined ? "" : String(raw);
    if (raw === 0) value.dataset.zero = ""; else delete value.dataset.zero;
  }

  function renderUnits(groups) {
    const list = $("units");
    list.replaceChildren();
    const top = (groups || [])
      .filter((g) => typeof g.open_late === "number" && g.open_late > 0)
      .sort((a, b) => b.open_late - a.open_late)
      .slice(0, UNITS_MAX);
    for (const g of top) {
      const key = g.key || {};
      const li = h("li");
      li.dataset.unit = key.unit_code || "";
      const late = h("span", "late", numberFmt.format(g.open_late));
      late.append(h("small", null, "quá hạn"));
      li.append(h("span", "name", key.unit_name || "Chưa phân công"), late);
      list.append(li);
    }
    $("units-empty").hidden = top.length > 0;
  }

  async function loadKpis(current) {
    if (current !== run) return;
    current.kpiAt = Date.now();
    const today = vnDay(0);
    const month = vnDay(-29);
    const year = vnDay(-364);
    const calls = [
      api(`/ioc/kpis?from=${today}&to=${today}`, current.ctrl.signal),
      api(`/ioc/kpis?from=${month}&to=${today}`, current.ctrl.signal),
      api(`/ioc/kpis?from=${year}&to=${today}&group_by=unit`, current.ctrl.signal),
    ];
    const [day, last30, last365] = await Promise.allSettled(calls);
    for (const r of [day, last30, last365]) {
      if (r.status === "rejected" && failed(current, r.reason)) return;
    }
    if (current !== run) return;
    const totals = (r) => (r.status === "fulfilled" && r.value.body.totals) || null;
    const tile = (name, r, field, fmt) => {
      const t = totals(r);
      if (!t) setTile(name, "—", null, "error");
      else setTile(name, fmt(t[field]), t[field] ?? null, "ready");
    };
    tile("received", day, "received", countText);
    tile("on_time", last30, "on_time_pct", pctText);
    tile("overdue", last365, "open_late", countText);
    tile("satisfaction", last30, "satisfaction_pct", pctText);
    if (last365.status === "fulfilled") renderUnits(last365.value.body.groups);
    else { $("units").replaceChildren(); $("units-empty").hidden = false; }
    const ok = [day, last30, last365].every((r) => r.status === "fulfilled");
    body.dataset.kpis = ok ? "ready" : "error";
    if (ok) stamp();
  }

  /** After a stream event: refresh the tiles, but not more often than every 10 s. */
  function kpisSoon(current) {
    if (current !== run || current.kpiTimer) return;
    const wait = Math.max(0, (current.kpiAt || 0) + KPI_MIN_GAP_MS - Date.now());
    current.kpiTimer = setTimeout(() => {
      current.kpiTimer = null;
      loadKpis(current);
    }, wait);
  }

  /* ---------- Ticker ---------- */

  const ticker = {
    seen: new Set(),

    add(ce) {
      if (this.seen.has(ce.id)) return false;
      this.seen.add(ce.id);
      if (this.seen.size > 500) this.seen.delete(this.seen.values().next().value);
      const data = ce.data || {};
      const li = h("li", `fresh ev-${String(ce.type).replace(/\./g, "-")}`);
      li.dataset.eventId = ce.id;
      li.dataset.type = ce.type;
      li.dataset.code = data.code || ce.subject || "";
      const when = new Date(timeOf(ce.time) || Date.now());
      const time = h("time", null, hhmm(when));
      time.dateTime = ce.time || "";
      let label = EVENT_LABELS[ce.type] || ce.type;
      if (ce.type === "report.status_changed" && data.status_label) label = `${label}: ${data.status_label}`;
      const what = h("span", "line");
      what.append(h("span", "what", label), " ", h("span", "code", data.code || ce.subject || ""));
      const where = h("span", "where",
        [data.category_name, data.ward_name].filter(Boolean).join(" · ") || " ");
      li.append(time, what, where);
      const list = $("ticker");
      list.prepend(li);
      while (list.children.length > TICKER_MAX) list.lastElementChild.remove();
      $("ticker-empty").hidden = true;
      return true;
    },
  };

  /* ---------- Live stream (SSE over fetch) ---------- */

  /** Server-Sent Events parser: lines end in CRLF, LF or CR; a blank line ends a message. */
  class SseParser {
    constructor(onMessage, onComment, onRetry) {
      this.onMessage = onMessage;
      this.onComment = onComment;
      this.onRetry = onRetry;
      this.buffer = "";
      this.skipLF = false;
      this.data = [];
      this.type = "";
      this.lastId = "";
    }

    push(text) {
      if (this.skipLF && text.startsWith("\n")) text = text.slice(1);
      this.skipLF = false;
      this.buffer += text;
      const buf = this.buffer;
      let start = 0;
      const eol = /[\r\n]/g;
      let m;
      while ((m = eol.exec(buf)) !== null) {
        const i = m.index;
        this.line(buf.slice(start, i));
        if (buf[i] === "\r") {
          if (i + 1 < buf.length) {
            if (buf[i + 1] === "\n") eol.lastIndex = i + 2;
          } else {
            this.skipLF = true;  // a CRLF may be split across two chunks
          }
        }
        start = eol.lastIndex;
      }
      this.buffer = buf.slice(start);
    }

    line(line) {
      if (line === "") { this.dispatch(); return; }
      if (line[0] === ":") { this.onComment(line.slice(1)); return; }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value[0] === " ") value = value.slice(1);
      if (field === "event") this.type = value;
      else if (field === "data") this.data.push(value);
      else if (field === "id") { if (!value.includes("\0")) this.lastId = value; }
      else if (field === "retry") { if (/^\d+$/.test(value)) this.onRetry(Number(value)); }
    }

    dispatch() {
      const data = this.data.join("\n");
      const had = this.data.length > 0;
      const type = this.type || "message";
      this.data = [];
      this.type = "";
      if (had) this.onMessage({ type, data, id: this.lastId });
    }
  }

  const stream = {
    lastId: "",
    retryMs: 3000,

    async connect(current) {
      let backoff = 1000;
      while (current === run) {
        let delay;
        try {
          await this.once(current);
          // The server ends every stream after a while: come back for the rest (Last-Event-ID).
          backoff = 1000;
          delay = this.retryMs;
        } catch (err) {
          if (current !== run || current.ctrl.signal.aborted) return;  // signed out meanwhile
          if (err instanceof AuthError) { authFailed(err); return; }
          // Anything else (network, 5xx, our idle watchdog): try again, backing off.
          const hint = err instanceof HttpError && err.retryAfter ? err.retryAfter * 1000 : 0;
          delay = Math.max(hint, backoff) * (0.8 + Math.random() * 0.4);
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
          live("bad", "Mất kết nối trực tiếp, đang thử lại…");
        }
        await sleep(delay, current.ctrl.signal);
      }
    },

    /** One connection, read to its end; throws when it cannot be opened or breaks. */
    async once(current) {
      const ctrl = new AbortController();
      const abort = () => ctrl.abort();
      current.ctrl.signal.addEventListener("abort", abort, { once: true });
      let idle = null;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(abort, STREAM_IDLE_MS);  // silent too long: assume a dead link
      };
      try {
        const headers = { ...auth.headers(), Accept: "text/event-stream" };
        if (this.lastId) headers["Last-Event-ID"] = this.lastId;
        touch();
        const res = await fetch(`${API}/ioc/stream`, {
          headers, cache: "no-store", credentials: "same-origin", signal: ctrl.signal });
        if (res.status === 401 || res.status === 403) {
          throw new AuthError(res.status, await errorCode(res));
        }
        if (!res.ok || !res.body) {
          throw new HttpError(res.status, Number(res.headers.get("Retry-After")) || 0);
        }
        live("on", "Trực tiếp");
        const parser = new SseParser(
          (msg) => this.message(current, msg), () => {}, (ms) => { this.retryMs = ms; });
        const reader = res.body.getReader();
        const decoder = new TextDecoder("utf-8");
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          touch();
          parser.push(decoder.decode(value, { stream: true }));
        }
        parser.push(decoder.decode());
      } finally {
        clearTimeout(idle);
        current.ctrl.signal.removeEventListener("abort", abort);
      }
    },

    message(current, msg) {
      if (current !== run) return;
      if (msg.id) this.lastId = msg.id;
      let ce;
      try { ce = JSON.parse(msg.data); } catch (e) { return; }
      if (!ce || typeof ce !== "object") return;
      if (!ce.type) ce.type = msg.type;
      if (!ce.id) ce.id = msg.id;
      if (!ticker.add(ce)) return;
      map.apply(ce);
      kpisSoon(current);
    },
  };

  /* ---------- Sign-in ---------- */

  async function signInStaff(event) {
    event.preventDefault();
    const button = $("signin-submit");
    const message = $("signin-message");
    const email = $("email").value.trim();
    const password = $("password").value;
    if (!email || !password) { message.textContent = "Vui lòng nhập email và mật khẩu."; return; }
    button.disabled = true;
    message.textContent = "Đang đăng nhập…";
    try {
      const res = await fetch(`${API}/auth/login`, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email, password }),
      });
      if (res.status === 401 || res.status === 422) {
        message.textContent = "Email hoặc mật khẩu không đúng.";
        return;
      }
      if (res.status === 429) {
        message.textContent = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.";
        return;
      }
      if (!res.ok) throw new HttpError(res.status);
      const data = await res.json();
      if (!WALL_ROLES.includes(data.role)) {
        message.textContent = "Tài khoản này không có quyền xem màn hình IOC "
          + "(cần vai trò điều phối viên hoặc quản trị).";
        return;
      }
      auth.setStaff({ token: data.access_token, expires_at: data.expires_at, role: data.role });
      $("password").value = "";
      message.textContent = "";
      start();
    } catch (e) {
      message.textContent = "Không kết nối được máy chủ. Vui lòng thử lại.";
    } finally {
      button.disabled = false;
    }
  }

  function signInKey(event) {
    event.preventDefault();
    const key = $("apikey").value.trim();
    if (!key) { $("signin-message").textContent = "Vui lòng dán khóa API."; return; }
    $("apikey").value = "";
    auth.dropStaff();
    auth.setKey(key);
    $("signin-message").textContent = "";
    start();
  }

  function signOut() {
    auth.dropStaff();
    auth.dropKey();
    showSignin("Đã đăng xuất.");
  }

  /* ---------- Clock ---------- */

  function tick() {
    const now = new Date();
    const clock = $("clock");
    clock.textContent = hhmmss(now);
    clock.title = dateFmt.format(now);
    clock.dateTime = now.toISOString();
  }

  /* ---------- Boot ---------- */

  function boot() {
    map.init();
    map.refresh();
    tick();
    setInterval(tick, 1000);
    $("form-staff").addEventListener("submit", signInStaff);
    $("form-key").addEventListener("submit", signInKey);
    $("signout").addEventListener("click", signOut);
    takeKeyFromFragment();
    loadWards();
    if (auth.load()) start();
    else showSignin("");
    body.dataset.boot = "done";
  }

  // The stream parser, for tests and for debugging in the console.
  window.IocWall = Object.freeze({ SseParser });

  boot();
})();
