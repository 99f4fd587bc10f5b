/* KIP's maps: the public map (/) and the coordinator's integrated plan (/plan).
 *
 * The page embeds a Folium base map (kip.maps): its element exposes the Leaflet map as
 * `kipMap` and an empty marker-cluster layer as `kipCluster`. This script loads the works in
 * view from /api/v1/map/works by bounding box, period and zoom as the map moves (a point per
 * work when zoomed out, clustered; simplified shapes when zoomed in), colours them by
 * discipline, binds popups, keeps the list below the map in step, and keeps the view's state
 * (centre, zoom, period, filters) in the URL so it can be shared. Values from the data are
 * shown as text only (static/kip-text.js, loaded with every map). On /plan it also draws the
 * clashes (/api/v1/clashes) on top and the dig bans (/api/v1/digbans) as areas, and the
 * checkboxes beside the map hide disciplines, organisations and clash layers.
 *
 * When the first load has drawn, the map element gets data-state="ready" (and data-loads
 * counts every load drawn): tests and the benchmark wait for it.
 */
(function () {
  "use strict";

  var root = document.getElementById("kip-mapview");
  if (!root) { return; }
  var element = root.querySelector(".kip-map");
  if (!element || !element.kipMap) { return; }
  var map = element.kipMap;
  var cluster = element.kipCluster || null;
  var config = JSON.parse(root.getAttribute("data-config"));
  var t = config.strings;
  var mode = root.getAttribute("data-mode");
  var form = root.querySelector("form.map-filters");
  var list = document.getElementById("map-list");
  var status = document.getElementById("map-status");
  var lang = document.documentElement.lang || "nl";
  var LIST_MAX = 200;
  var CLASH_STYLE = {
    conflict: { color: "#d40000", weight: 5, dashArray: "6 4" },
    opportunity: { color: "#1a9641", weight: 5 },
    violation: { color: "#7b3294", weight: 5, dashArray: "2 4" }
  };

  root.setAttribute("data-js", "on");
  map.createPane("kipDigbans").style.zIndex = 390;
  map.createPane("kipClashes").style.zIndex = 450;
  var shapes = L.featureGroup().addTo(map);
  var digbanLayer = L.featureGroup().addTo(map);
  var clashLayer = L.featureGroup().addTo(map);
  var features = [];
  var clashes = [];
  var digbans = null;
  var truncated = false;
  var layersById = {};
  var loadSeq = 0;
  var loads = 0;

  /* Dates: ISO strings (YYYY-MM-DD), computed in UTC so no time zone shifts a day. */
  function parseDate(s) {
    var p = s.split("-");
    return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2]));
  }
  function iso(d) { return d.toISOString().slice(0, 10); }
  function addDays(s, n) {
    var d = parseDate(s);
    d.setUTCDate(d.getUTCDate() + n);
    return iso(d);
  }
  function validDate(s) { return /^\d{4}-\d{2}-\d{2}$/.test(s || "") && !isNaN(parseDate(s)); }
  function formatDate(s) {
    return parseDate(s).toLocaleDateString(lang, {
      day: "numeric", month: "short", year: "numeric", timeZone: "UTC"
    });
  }

  /* The same periods as kip.services.mapdata.period_bounds, which refuses a custom period
     that ends before it starts; the page then shows the four weeks from today
     (kip.web.home), and so does this: null for such a period, read as "4w" by period(). */
  function periodBounds(period, start, end) {
    var today = config.today;
    if (period === "now") { return [today, today]; }
    if (period === "year") {
      var y = today.slice(0, 4);
      return [y + "-01-01", y + "-12-31"];
    }
    if (period === "custom" && (validDate(start) || validDate(end))) {
      var first = validDate(start) ? start : end;
      var last = validDate(end) ? end : first;
      return last < first ? null : [first, last];
    }
    return [today, addDays(today, 27)];
  }

  /* ---- state: the form's controls, mirrored in the URL ---- */
  function checkedValues(name) {
    var all = form.querySelectorAll("input[name=" + name + "]");
    var on = [];
    all.forEach(function (box) { if (box.checked) { on.push(box.value); } });
    return { on: on, all: all.length };
  }
  function shownSet(name) {
    var set = {};
    checkedValues(name).on.forEach(function (v) { set[v] = true; });
    return set;
  }
  function period() {
    var radio = form.querySelector("input[name=period]:checked");
    var name = radio ? radio.value : "4w";
    var bounds = periodBounds(name, form.start.value, form.end.value);
    if (bounds === null) { name = "4w"; bounds = periodBounds(name); }
    return { name: name, bounds: bounds };
  }
  /* The form as the server would render the period: its choice checked, its dates shown. */
  function showPeriod(p) {
    var radio = form.querySelector("input[name=period][value='" + p.name + "']");
    if (radio) { radio.checked = true; }
    form.start.value = p.bounds[0];
    form.end.value = p.bounds[1];
  }

  function readUrl() {
    var q = new URLSearchParams(window.location.search);
    var p = q.get("period");
    if (p && periodBounds(p, q.get("start"), q.get("end")) !== null) {
      var radio = form.querySelector("input[name=period][value='" + CSS.escape(p) + "']");
      if (radio) { radio.checked = true; }
    }
    ["discipline", "organisation", "layer"].forEach(function (name) {
      if (!q.has(name)) { return; }
      var wanted = {};
      q.getAll(name).join(",").split(",").forEach(function (v) { if (v) { wanted[v] = true; } });
      form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
        box.checked = !!wanted[box.value];
      });
    });
    showPeriod(period());
    var lat = parseFloat(q.get("lat")), lon = parseFloat(q.get("lon")), z = parseInt(q.get("z"), 10);
    if (isFinite(lat) && isFinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
      map.setView([lat, lon], isFinite(z) ? Math.max(0, Math.min(19, z)) : map.getZoom(),
        { animate: false });
    }
  }

  function writeUrl() {
    var q = new URLSearchParams(window.location.search);
    var c = map.getCenter();
    q.set("lat", c.lat.toFixed(5));
    q.set("lon", c.lng.toFixed(5));
    q.set("z", String(map.getZoom()));
    var p = period();
    q.set("period", p.name);
    if (p.name === "custom") {
      q.set("start", p.bounds[0]);
      q.set("end", p.bounds[1]);
    } else {
      q.delete("start");
      q.delete("end");
    }
    ["discipline", "organisation", "layer"].forEach(function (name) {
      var v = checkedValues(name);
      q.delete(name);
      if (v.all && v.on.length < v.all) { q.set(name, v.on.join(",")); }
    });
    var url = window.location.pathname + "?" + q.toString() + window.location.hash;
    window.history.replaceState(null, "", url);
  }

  /* ---- drawing ---- */
  function colour(code) {
    var d = config.disciplines[code];
    return d ? d.colour : "#777777";
  }
  /* Every value from the data reaches the page through kipText.el (static/kip-text.js), as
   * text: no string is handed to Leaflet's bindPopup, bindTooltip or divIcon html, which
   * would take it as HTML. */
  var el = window.kipText.el;
  function line(label, value) {
    var p = el("p");
    p.appendChild(el("strong", label + ": "));
    p.appendChild(document.createTextNode(value));
    return p;
  }
  function workUrl(id) { return config.workUrl.replace(/0$/, String(id)); }
  function when(f) { return formatDate(f.properties.start) + " – " + formatDate(f.properties.end); }
  function hindrance(f) {
    var text = t["traffic_" + f.properties.traffic] || f.properties.traffic;
    return f.properties.excavation ? text + "; " + t.excavation : text;
  }

  function popup(f) {
    var box = el("div", null, "kip-popup");
    box.appendChild(el("h3", f.properties.title));
    var d = config.disciplines[f.properties.discipline];
    if (d) { box.appendChild(el("p", d.label)); }
    box.appendChild(line(t.who, f.properties.organisation));
    box.appendChild(line(t.when, when(f)));
    box.appendChild(line(t.hindrance, hindrance(f)));
    var c = f.properties.contact || {};
    if (c.name || c.email || c.phone) {
      var p = line(t.contact, [c.name, c.phone].filter(Boolean).join(", "));
      if (c.email) {
        var mail = el("a", c.email);
        mail.href = "mailto:" + c.email;
        p.appendChild(document.createTextNode(" "));
        p.appendChild(mail);
      }
      box.appendChild(p);
    }
    var more = el("a", t.more);
    more.href = workUrl(f.id);
    box.appendChild(el("p")).appendChild(more);
    return box;
  }

  function shown(f) {
    var disc = shownSet("discipline");
    if (!disc[f.properties.discipline]) { return false; }
    if (mode === "plan" && form.querySelector("input[name=organisation]")) {
      return !!shownSet("organisation")[String(f.properties.organisation_id)];
    }
    return true;
  }

  function layerFor(f) {
    var c = colour(f.properties.discipline);
    if (f.geometry.type === "Point") {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var dot = el("span");
      dot.style.background = c;
      var icon = L.divIcon({ className: "kip-work-marker kip-work-" + f.id, html: dot, iconSize: [14, 14] });
      return L.marker(ll, { icon: icon, title: f.properties.title, alt: f.properties.title });
    }
    return L.geoJSON(f, {
      style: function () {
        return { color: c, weight: 5, opacity: 0.85, fillOpacity: 0.25, className: "kip-work kip-work-" + f.id };
      },
      pointToLayer: function (_g, ll) {
        return L.circleMarker(ll, { radius: 6, color: c, className: "kip-work kip-work-" + f.id });
      }
    });
  }

  function draw() {
    if (cluster) { cluster.clearLayers(); }
    shapes.clearLayers();
    layersById = {};
    var visible = features.filter(shown);
    var markers = [];
    visible.forEach(function (f) {
      var layer = layerFor(f);
      layer.bindPopup(function () { return popup(f); });
      layersById[f.id] = layer;
      if (layer instanceof L.Marker && cluster) { markers.push(layer); } else { shapes.addLayer(layer); }
    });
    if (cluster) { cluster.addLayers(markers); }
    drawClashes();
    renderList(visible);
    element.kipShown = visible.map(function (f) { return f.id; });
    element.setAttribute("data-features", String(visible.length));
    element.setAttribute("data-loads", String(loads));
    if (!element.hasAttribute("data-ready-ms")) {
      element.setAttribute("data-ready-ms", String(Math.round(performance.now())));
    }
    element.setAttribute("data-state", "ready");
  }

  function drawClashes() {
    if (mode !== "plan") { return; }
    var on = shownSet("layer");
    clashLayer.clearLayers();
    digbanLayer.clearLayers();
    var bounds = period().bounds;
    clashes.forEach(function (c) {
      var kind = c.properties.kind;
      if (!on[kind] || !c.geometry || c.properties.status === "resolved") { return; }
      var style = CLASH_STYLE[kind] || CLASH_STYLE.conflict;
      var layer = L.geoJSON(c, {
        pane: "kipClashes",
        style: function () {
          return Object.assign({ className: "kip-clash kip-clash-" + kind + " kip-clash-id-" + c.id }, style);
        },
        pointToLayer: function (_g, ll) {
          return L.circleMarker(ll, Object.assign({ radius: 9, pane: "kipClashes",
            className: "kip-clash kip-clash-" + kind + " kip-clash-id-" + c.id }, style));
        }
      });
      var facts = (c.properties.explanation || {}).facts || "";
      layer.bindTooltip(el("span", (t["kind_" + kind] || kind) + (facts ? ": " + facts : "") +
        " (" + t.clash + ")"));
      layer.on("click", function () {
        window.location.href = config.clashUrl.replace(/0$/, String(c.id));
      });
      clashLayer.addLayer(layer);
    });
    if (on.digban && digbans) {
      digbans.forEach(function (b) {
        if (b.properties.end_date < bounds[0] || b.properties.start_date > bounds[1]) { return; }
        var layer = L.geoJSON(b, {
          pane: "kipDigbans",
          style: function () {
            return { color: "#555", weight: 2, dashArray: "4 3", fillColor: "#888", fillOpacity: 0.25, className: "kip-digban" };
          }
        });
        layer.bindTooltip(el("span", t.digban + ": " + b.properties.title + " (" +
          formatDate(b.properties.start_date) + " – " + formatDate(b.properties.end_date) + ")"));
        digbanLayer.addLayer(layer);
      });
    }
  }

  function renderList(visible) {
    list.textContent = "";
    visible.slice(0, LIST_MAX).forEach(function (f) {
      var li = el("li");
      li.setAttribute("data-work-id", String(f.id));
      var a = el("a", f.properties.title);
      a.href = workUrl(f.id);
      li.appendChild(a);
      li.appendChild(document.createTextNode(
        " · " + f.properties.organisation + " · " + when(f) + " · " + hindrance(f) + " "));
      var button = el("button", t.show, "link");
      button.type = "button";
      button.setAttribute("aria-label", t.show + ": " + f.properties.title);
      button.addEventListener("click", function () { focusWork(f.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    var text = t.inView + ": " + visible.length;
    if (truncated) { text += ". " + t.truncated; } else if (visible.length > LIST_MAX) { text += ". " + t.listCut; }
    status.textContent = text;
  }

  function focusWork(id) {
    var layer = layersById[id];
    if (!layer) { return; }
    if (layer instanceof L.Marker && cluster) {
      cluster.zoomToShowLayer(layer, function () { layer.openPopup(); });
    } else {
      map.fitBounds(layer.getBounds(), { maxZoom: 18 });
      layer.openPopup();
    }
    element.focus();
  }

  /* ---- loading ---- */
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function bbox() {
    var b = map.getBounds().pad(0.1);
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); });
  }

  function load() {
    var seq = ++loadSeq;
    var p = period().bounds;
    var box = bbox();
    var q = new URLSearchParams({ bbox: box, start: p[0], end: p[1], zoom: String(map.getZoom()) });
    if (mode === "public") { q.set("public", "true"); }
    element.setAttribute("data-state", loads ? "reloading" : "loading");
    var wanted = [getJson(config.api + "?" + q.toString())];
    if (mode === "plan") {
      var cq = new URLSearchParams({ bbox: box, start: p[0], end: p[1], limit: "1000" });
      wanted.push(getJson(config.clashes + "?" + cq.toString()).catch(function () { return null; }));
      wanted.push(digbans ? Promise.resolve(null)
        : getJson(config.digbans).catch(function () { return null; }));
    }
    Promise.all(wanted).then(function (answers) {
      if (seq !== loadSeq) { return; }
      features = answers[0].features;
      truncated = answers[0].truncated;
      if (answers[1]) { clashes = answers[1].features; }
      if (answers[2]) { digbans = answers[2].features; }
      loads += 1;
      draw();
    }).catch(function () {
      if (seq !== loadSeq) { return; }
      status.textContent = t.failed;
      element.setAttribute("data-state", "error");
    });
  }

  var timer = null;
  function reloadSoon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 120);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("change", function (e) {
    var target = e.target;
    if (target.name === "start" || target.name === "end") {
      form.querySelector("input[name=period][value=custom]").checked = true;
      var chosen = period();
      if (chosen.name !== "custom") { showPeriod(chosen); }  // an end before its start
    } else if (target.name === "period") {
      showPeriod(period());
    }
    writeUrl();
    if (target.name === "period" || target.name === "start" || target.name === "end") {
      load();
    } else {
      draw();
    }
  });

  element.setAttribute("tabindex", "0");
  readUrl();  // the URL changes only when the visitor changes the view
  load();
  map.on("moveend", function () { writeUrl(); reloadSoon(); });
}());
