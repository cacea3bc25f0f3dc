// Live room: one tile per camera, updated only through the /live Socket.IO namespace.
(function () {
  "use strict";
  // The classes, words and colours, from their one definition (app/inference/labels.py, via app.labels.face_outputs).
  var outputs = JSON.parse(document.getElementById("face-outputs").textContent);
  var EMOTIONS = outputs.classes;
  var COLORS = outputs.colours;
  var i18n = JSON.parse(document.getElementById("i18n").textContent);
  Object.keys(outputs.words).forEach(function (k) { i18n[k] = outputs.words[k]; });
  var lang = document.documentElement.lang || "en";
  var pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  var tilesEl = document.getElementById("tiles");
  var statusEl = document.getElementById("live-status");
  var offlineAfter = tilesEl ? Number(tilesEl.dataset.offlineAfter || 10) * 1000 : 10000;
  var WINDOW_MS = 5 * 60000;  // the trend's span
  var history = {};  // camera id -> [{t, scores}], at most one point a second
  var lastSeen = {};
  var SVG = "http://www.w3.org/2000/svg";

  function setStatus(key) { statusEl.textContent = statusEl.dataset[key]; statusEl.className = "status " + key; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Times belong to the camera's site: shown in its zone, which the tile names.
  var formatters = {};
  function timeIn(zone, ms, seconds) {
    var key = zone + (seconds ? "s" : "m");
    if (!formatters[key]) {
      var opts = { hour: "2-digit", minute: "2-digit", hour12: false };
      if (seconds) { opts.second = "2-digit"; }
      try { formatters[key] = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: zone }, opts)); }
      catch (e) { formatters[key] = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: "UTC" }, opts)); }
    }
    return formatters[key].format(new Date(ms));
  }
  function zoneOf(cameraId) {
    var tile = document.getElementById("camera-" + cameraId);
    return (tile && tile.dataset.timezone) || (cameras[cameraId] && cameras[cameraId].site_timezone) || "UTC";
  }

  function best(scores) { return EMOTIONS.reduce(function (a, b) { return (scores[a] || 0) >= (scores[b] || 0) ? a : b; }); }

  // The chart: 0-100 % on the left axis, the last five minutes (site time) along the bottom.
  var W = 320, H = 150, L = 40, R = 8, T = 8, B = 24;
  function drawChart(tile, points, zone) {
    var chart = tile.querySelector("svg.chart"), now = Date.now();
    while (chart.firstChild) { chart.removeChild(chart.firstChild); }
    var x = function (t) { return L + (1 - (now - t) / WINDOW_MS) * (W - L - R); };
    var y = function (v) { return T + (1 - v) * (H - T - B); };
    [0, 0.5, 1].forEach(function (v) {
      chart.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), "class": v ? "grid" : "axis" }));
      chart.appendChild(svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "class": "tick" }, pct.format(v)));
    });
    chart.appendChild(svg("line", { x1: L, x2: L, y1: T, y2: H - B, "class": "axis" }));
    var minute = 60000, first = Math.ceil((now - WINDOW_MS) / minute) * minute;
    for (var t = first; t <= now; t += minute) {
      chart.appendChild(svg("line", { x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4, "class": "axis" }));
      chart.appendChild(svg("text", { x: x(t), y: H - 6, "text-anchor": "middle", "class": "tick" }, timeIn(zone, t, false)));
    }
    EMOTIONS.forEach(function (e) {
      var d = "", prev = null;
      points.forEach(function (p) {
        // A gap of more than 10 s (camera stopped) breaks the line instead of bridging it.
        d += (prev === null || p.t - prev > 10000 ? "M" : "L") + x(p.t).toFixed(1) + " " + y(p.scores[e] || 0).toFixed(1) + " ";
        prev = p.t;
      });
      if (d) { chart.appendChild(svg("path", { d: d, stroke: COLORS[e], "class": "series", "data-emotion": e })); }
    });
  }

  function buildLegend(tile) {
    var legend = tile.querySelector(".legend");
    EMOTIONS.forEach(function (e) {
      var item = el("li", "legend-item");
      var swatch = el("span", "swatch"); swatch.style.background = COLORS[e];
      item.appendChild(swatch); item.appendChild(document.createTextNode(i18n[e] || e));
      legend.appendChild(item);
    });
  }

  function renderChips(tile, faces, tracks) {
    var list = tile.querySelector(".chips");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    faces.forEach(function (f, i) {
      var chip = el("li", "chip");
      // Track ids are long opaque codes: four characters tell the faces in view apart.
      var who = i18n.face + " " + (f.track_id !== undefined && f.track_id !== null ? "#" + String(f.track_id).slice(0, 4) : i + 1);
      chip.appendChild(el("span", "who", who));
      var scores = f.smoothed || (tracks && f.track_id && tracks[f.track_id]) || f.scores;
      if (scores) {
        var e = best(scores);
        chip.dataset.emotion = e;
        chip.style.borderColor = COLORS[e];
        var dot = el("span", "swatch"); dot.style.background = COLORS[e];
        chip.appendChild(dot);
        chip.appendChild(el("span", "label", i18n[e] || e));
        chip.appendChild(el("span", "score", pct.format(scores[e] || 0)));
      } else {
        chip.classList.add("withheld");
        chip.appendChild(el("span", "label", i18n.withheld));
        chip.appendChild(el("span", "reason", i18n[f.reason] || f.reason || ""));
      }
      list.appendChild(chip);
    });
  }

  function update(ev) {
    var tile = document.getElementById("camera-" + ev.camera_id);
    if (!tile) { return; }
    var now = Date.now(), zone = zoneOf(ev.camera_id), faces = ev.faces || [];
    lastSeen[ev.camera_id] = now;
    tile.classList.remove("offline"); tile.classList.add("online");
    tile.querySelector(".badge").textContent = i18n.online;
    var inView = typeof ev.people === "number" ? ev.people : faces.length;
    tile.querySelector(".count").textContent = inView;
    renderChips(tile, faces, ev.tracks);
    var classified = faces.filter(function (f) { return f.scores; });
    var shown = ev.smoothed || (classified[0] && classified[0].scores);
    var list = history[ev.camera_id] = (history[ev.camera_id] || []).filter(function (p) { return now - p.t < WINDOW_MS; });
    if (shown) {
      var top = best(shown);
      tile.querySelector(".emotion").textContent = i18n[top];
      tile.querySelector(".confidence").textContent = pct.format(shown[top]);
      tile.dataset.emotion = top;
      var last = list[list.length - 1];
      if (!last || now - last.t >= 1000) { list.push({ t: now, scores: shown }); } else { last.scores = shown; }
    } else {
      tile.querySelector(".emotion").textContent = "—";
      tile.querySelector(".confidence").textContent = "";
    }
    drawChart(tile, list, zone);
    var time = tile.querySelector("time");
    time.dateTime = new Date(ev.ts).toISOString();
    time.textContent = timeIn(zone, ev.ts, true);
  }

  if (tilesEl) {
    tilesEl.querySelectorAll(".tile").forEach(function (tile) { buildLegend(tile); drawChart(tile, [], tile.dataset.timezone || "UTC"); });
    // The curves of the last minutes, from the stored observations: a wall tablet that reloads shows
    // the recent trend at once. Points that arrived live meanwhile are kept; stored ones go before them.
    fetch("/live/trend" + location.search, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.cameras) { return; }
        Object.keys(data.cameras).forEach(function (id) {
          var tile = document.getElementById("camera-" + id);
          if (!tile) { return; }
          var live = history[id] || [], firstLive = live.length ? live[0].t : Infinity;
          var stored = data.cameras[id].map(function (p) { return { t: Date.parse(p.t), scores: p.scores }; })
            .filter(function (p) { return p.t < firstLive; });
          history[id] = stored.concat(live);
          tile.dataset.trendPoints = String(history[id].length);
          drawChart(tile, history[id], zoneOf(id));
        });
      })
      .catch(function () { /* the live events still draw the curve */ });
  }

  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll(".tile").forEach(function (tile) {
      var id = tile.dataset.cameraId;
      if (!lastSeen[id] || now - lastSeen[id] > offlineAfter) {
        tile.classList.add("offline"); tile.classList.remove("online");
        tile.querySelector(".badge").textContent = i18n.offline;
      }
    });
  }, 1000);

  // Alerts: a banner per open alert, sound, vibration and a desktop notification unless muted,
  // acknowledgement with an optional note; every screen hears of it through the "alert" event.
  var cameras = {};
  JSON.parse(document.getElementById("camera-names").textContent).forEach(function (c) { cameras[c.id] = c; });
  var alertsEl = document.getElementById("alerts"), muteBtn = document.getElementById("mute");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var muted = localStorage.getItem("emotiscan-muted") === "1";
  var sound = document.getElementById("alert-sound");
  var soundPrompt = document.getElementById("sound-prompt"), notifyBtn = document.getElementById("notify");
  var openByCamera = {};  // camera id -> {alert id: alert}

  function showMute() {
    muteBtn.textContent = muted ? muteBtn.dataset.unmute : muteBtn.dataset.mute;
    muteBtn.setAttribute("aria-pressed", muted ? "true" : "false");
  }
  muteBtn.addEventListener("click", function () { muted = !muted; localStorage.setItem("emotiscan-muted", muted ? "1" : "0"); showMute(); });
  showMute();

  // Browsers refuse sound before a tap: the rejected play() says so, and the page asks for the tap.
  function play(volume) {
    sound.volume = volume;
    sound.currentTime = 0;
    var p = sound.play();
    if (p && p.then) {
      p.then(function () { soundPrompt.hidden = true; })
        .catch(function (err) { if (err && err.name === "NotAllowedError") { soundPrompt.hidden = false; } });
    }
  }
  function askNotifications() {
    if ("Notification" in window && Notification.permission === "default") {
      var asked = Notification.requestPermission();
      if (asked && asked.then) { asked.then(showNotify); }
    }
  }
  function showNotify() {
    notifyBtn.hidden = !("Notification" in window) || Notification.permission !== "default";
  }
  document.getElementById("enable-sound").addEventListener("click", function () { play(0.6); askNotifications(); });
  notifyBtn.addEventListener("click", askNotifications);
  showNotify();
  play(0);  // a silent probe: shows the prompt at once where sound is blocked

  function alertText(alert) {
    var cam = cameras[alert.camera_id];
    var where = cam ? cam.name + " (" + cam.site_name + ")" : "#" + alert.camera_id;
    var zone = zoneOf(alert.camera_id);
    var since = i18n.since + " " + timeIn(zone, Date.parse(alert.started_at), false) + " (" + zone + ")";
    if (alert.emotion === "camera_offline") {
      // Not a reading: no score, no rule; it says what happened.
      // "since" is when the camera was declared offline, not its last frame (the tile shows that one).
      return i18n.camera_offline + " · " + where + " · " + i18n.camera_offline_text + " · " + since;
    }
    return i18n.alert + " · " + where + " · " + (i18n[alert.emotion] || alert.emotion) + " " + pct.format(alert.value || 0) + " · " + since;
  }

  function ring(alert) {
    if (muted) { return; }
    play(0.6);
    if (navigator.vibrate) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* needs a tap first */ } }
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification("EmotiScan", { body: alertText(alert), tag: "alert-" + alert.id }); } catch (e) { /* e.g. Android needs a service worker */ }
    }
  }

  function tileState(cameraId, text) {
    var tile = document.getElementById("camera-" + cameraId);
    if (!tile) { return; }
    var open = openByCamera[cameraId] || {}, ids = Object.keys(open);
    tile.classList.toggle("alerting", ids.length > 0);
    var state = tile.querySelector(".alert-state");
    if (ids.length) {
      var a = open[ids[ids.length - 1]];
      state.textContent = (a.escalated_at ? i18n.escalated : i18n.alert_open) + " · " +
        (a.emotion === "camera_offline" ? i18n.camera_offline : (i18n[a.emotion] || a.emotion));
      state.className = "alert-state open";
      state.hidden = false;
    } else if (text) {
      state.textContent = text; state.className = "alert-state done"; state.hidden = false;
    } else {
      state.hidden = true;
    }
  }

  function removeAlert(id) {
    var item = document.getElementById("alert-" + id);
    if (item) { item.remove(); }
  }

  // An alert never reopens: an "open" event or list that arrives after this screen saw it closed
  // (the acknowledging screen's own answer can overtake events sent before it) is stale.
  var closedIds = {};
  function showAlert(alert, quiet) {
    var open = openByCamera[alert.camera_id] = openByCamera[alert.camera_id] || {};
    if (alert.status === "open" && closedIds[alert.id]) { return; }
    if (alert.status !== "open") {
      closedIds[alert.id] = true;
      delete open[alert.id];
      removeAlert(alert.id);
      var done = null;
      if (alert.status === "acknowledged") {
        var zone = zoneOf(alert.camera_id);
        done = i18n.acknowledged + " " + timeIn(zone, Date.parse(alert.acknowledged_at), false) + " (" + zone + ")" +
          (alert.note ? " · " + alert.note : "");
      }
      tileState(alert.camera_id, done);
      return;
    }
    var known = open[alert.id];
    open[alert.id] = alert;
    tileState(alert.camera_id);
    var existing = document.getElementById("alert-" + alert.id);
    if (existing) {
      existing.querySelector(".alert-text").textContent = alertText(alert);
      existing.classList.toggle("escalated", !!alert.escalated_at);
      if (alert.escalated_at && known && !known.escalated_at && !quiet) { ring(alert); }
      return;
    }
    var item = el("li", "alert " + (alert.severity || "warning") + (alert.emotion === "camera_offline" ? " offline-alert" : ""));
    item.id = "alert-" + alert.id;
    item.classList.toggle("escalated", !!alert.escalated_at);
    var text = el("span", "alert-text", alertText(alert));
    var form = el("form", "ack-form");
    var noteId = "note-" + alert.id;
    var label = el("label", "visually-hidden", i18n.note); label.htmlFor = noteId;
    var note = el("input", "note"); note.type = "text"; note.id = noteId; note.maxLength = 2000; note.placeholder = i18n.note;
    var button = el("button", "button", i18n.ack); button.type = "submit";
    var error = el("span", "ack-error"); error.setAttribute("role", "alert");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      button.disabled = true; error.textContent = "";
      var body = note.value.trim() ? { note: note.value.trim() } : {};
      fetch("/api/v1/alerts/" + alert.id + "/ack", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body) })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (acked) { showAlert(acked, true); })
        .catch(function () { button.disabled = false; error.textContent = i18n.ack_failed; });
    });
    form.appendChild(label); form.appendChild(note); form.appendChild(button);
    item.appendChild(text); item.appendChild(form); item.appendChild(error);
    alertsEl.prepend(item);
    if (!quiet) { ring(alert); }
  }

  function loadOpenAlerts() {
    fetch("/api/v1/alerts?status=open&limit=100", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) { body.items.forEach(function (a) { showAlert(a, true); }); });
  }

  // Kiosk: full screen where the browser allows it, and a layout with bigger type either way.
  var kioskBtn = document.getElementById("kiosk");
  function setKiosk(on) {
    document.body.classList.toggle("kiosk", on);
    kioskBtn.setAttribute("aria-pressed", on ? "true" : "false");
    kioskBtn.textContent = on ? kioskBtn.dataset.exit : kioskBtn.dataset.enter;
  }
  kioskBtn.addEventListener("click", function () {
    var on = !document.body.classList.contains("kiosk");
    setKiosk(on);
    var root = document.documentElement;
    if (on && root.requestFullscreen && !document.fullscreenElement) {
      root.requestFullscreen().catch(function () { /* refused: the kiosk layout stays */ });
    } else if (!on && document.fullscreenElement && document.exitFullscreen) {
      document.exitFullscreen().catch(function () { /* already left */ });
    }
  });
  document.addEventListener("fullscreenchange", function () { if (!document.fullscreenElement) { setKiosk(false); } });

  var socket = io("/live", { transports: ["websocket", "polling"], withCredentials: true });
  socket.on("connect", function () { setStatus("online"); loadOpenAlerts(); });
  socket.on("alert", function (a) { showAlert(a, false); });
  socket.on("camera_status", function (s) { if (!s.online) { lastSeen[s.camera_id] = 0; } });
  socket.on("disconnect", function () { setStatus("offline"); });
  socket.on("connect_error", function () { setStatus("offline"); });
  socket.on("observation", update);
  socket.on("observations", function (list) { list.forEach(update); });  // a batch's frames of one site
  window.emotiscanLive = { socket: socket, received: function () { return Object.keys(lastSeen).length; },
    alerts: function () { return alertsEl.children.length; } };
})();
