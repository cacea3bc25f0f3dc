// Live room: one tile per camera, updated only through the /live Socket.IO namespace.
(function () {
  "use strict";
  // The classes, groups, words and colours, from their one definition (app/inference/labels.py, via app.labels.face_outputs).
  var outputs = JSON.parse(document.getElementById("face-outputs").textContent);
  var EMOTIONS = outputs.classes;
  var COLORS = outputs.colours;
  var i18n = JSON.parse(document.getElementById("i18n").textContent);
  Object.keys(outputs.words).forEach(function (k) { i18n[k] = outputs.words[k]; });
  var tilesEl = document.getElementById("tiles");
  var statusEl = document.getElementById("live-status");
  var offlineAfter = tilesEl ? Number(tilesEl.dataset.offlineAfter || 10) * 1000 : 10000;
  var history = {};  // camera id -> [{t, scores}]
  var lastSeen = {};

  function setStatus(key) { statusEl.textContent = statusEl.dataset[key]; statusEl.className = "status " + key; }

  function draw(canvas, points) {
    var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, now = Date.now();
    ctx.clearRect(0, 0, w, h);
    EMOTIONS.forEach(function (e) {
      ctx.strokeStyle = COLORS[e]; ctx.lineWidth = 1.5; ctx.beginPath();
      var started = false;
      points.forEach(function (p) {
        var x = w - (now - p.t) / 60000 * w, y = h - p.scores[e] * (h - 2) - 1;
        if (!started) { ctx.moveTo(x, y); started = true; } else { ctx.lineTo(x, y); }
      });
      ctx.stroke();
    });
  }

  function update(ev) {
    var tile = document.getElementById("camera-" + ev.camera_id);
    if (!tile) { return; }
    var now = Date.now();
    lastSeen[ev.camera_id] = now;
    tile.classList.remove("offline"); tile.classList.add("online");
    tile.querySelector(".badge").textContent = i18n.online;
    var classified = ev.faces.filter(function (f) { return f.scores; });
    var shown = ev.smoothed || (classified[0] && classified[0].scores);
    tile.querySelector(".count").textContent = ev.faces.length;
    var reasons = ev.faces.filter(function (f) { return f.reason; }).map(function (f) { return i18n[f.reason] || f.reason; });
    tile.querySelector(".reason").textContent = reasons.length ? "(" + reasons.join(", ") + ")" : "";
    if (shown) {
      var best = EMOTIONS.reduce(function (a, b) { return shown[a] >= shown[b] ? a : b; });
      tile.querySelector(".emotion").textContent = i18n[best];
      tile.querySelector(".confidence").textContent = Math.round(shown[best] * 100) + " %";
      tile.dataset.emotion = best;
      var list = history[ev.camera_id] = (history[ev.camera_id] || []).filter(function (p) { return now - p.t < 60000; });
      list.push({ t: now, scores: shown });
      draw(tile.querySelector("canvas.spark"), list);
    } else {
      tile.querySelector(".emotion").textContent = "—";
      tile.querySelector(".confidence").textContent = "";
    }
    var time = tile.querySelector("time");
    time.dateTime = new Date(ev.ts).toISOString();
    time.textContent = new Date(ev.ts).toLocaleTimeString();
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

  // Alerts: a banner per open alert, sound and vibration unless muted, one-tap acknowledgement.
  var cameras = {};
  JSON.parse(document.getElementById("camera-names").textContent).forEach(function (c) { cameras[c.id] = c; });
  var alertsEl = document.getElementById("alerts"), muteBtn = document.getElementById("mute");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var muted = localStorage.getItem("emotiscan-muted") === "1", audio = null;

  function showMute() {
    muteBtn.textContent = muted ? muteBtn.dataset.unmute : muteBtn.dataset.mute;
    muteBtn.setAttribute("aria-pressed", muted ? "true" : "false");
  }
  muteBtn.addEventListener("click", function () { muted = !muted; localStorage.setItem("emotiscan-muted", muted ? "1" : "0"); showMute(); });
  showMute();

  function ring() {
    if (muted) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (delay) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880; gain.gain.value = 0.2;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + delay); osc.stop(audio.currentTime + delay + 0.2);
      });
    } catch (e) { /* no audio: the banner still shows */ }
    if (navigator.vibrate) { navigator.vibrate([200, 100, 200]); }
  }

  function markTile(alert, on) {
    var tile = document.getElementById("camera-" + alert.camera_id);
    if (tile) { tile.classList.toggle("alerting", on); }
  }

  function removeAlert(id) {
    var item = document.getElementById("alert-" + id);
    if (item) { item.remove(); }
  }

  function showAlert(alert, quiet) {
    if (alert.status === "resolved") { removeAlert(alert.id); markTile(alert, false); return; }
    if (alert.status === "acknowledged") { removeAlert(alert.id); return; }
    if (document.getElementById("alert-" + alert.id)) { return; }
    var item = document.createElement("li");
    item.id = "alert-" + alert.id; item.className = "alert " + (alert.severity || "warning");
    var cam = cameras[alert.camera_id];
    var text = document.createElement("span");
    text.textContent = i18n.alert + " · " + (cam ? cam.name + " (" + cam.site_name + ")" : "#" + alert.camera_id) + " · " +
      (i18n[alert.emotion] || alert.emotion) + (alert.emotion === "camera_offline" ? "" : " " + Math.round(alert.value * 100) + " %") +
      " · " + new Date(alert.started_at).toLocaleTimeString();
    var button = document.createElement("button");
    button.type = "button"; button.className = "button"; button.textContent = i18n.ack;
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/v1/alerts/" + alert.id + "/ack", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: "{}" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } removeAlert(alert.id); })
        .catch(function () { button.disabled = false; text.textContent += " — " + i18n.ack_failed; });
    });
    item.appendChild(text); item.appendChild(button);
    alertsEl.prepend(item);
    markTile(alert, true);
    if (!quiet) { ring(); }
  }

  function loadOpenAlerts() {
    fetch("/api/v1/alerts?status=open&limit=100", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) { body.items.forEach(function (a) { showAlert(a, true); }); });
  }

  var socket = io("/live", { transports: ["websocket", "polling"], withCredentials: true });
  socket.on("connect", function () { setStatus("online"); loadOpenAlerts(); });
  socket.on("alert", function (a) { showAlert(a, false); });
  socket.on("disconnect", function () { setStatus("offline"); });
  socket.on("connect_error", function () { setStatus("offline"); });
  socket.on("observation", update);
  window.emotiscanLive = { socket: socket, received: function () { return Object.keys(lastSeen).length; },
    alerts: function () { return alertsEl.children.length; } };
})();
