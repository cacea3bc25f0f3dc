// Capture page: webcam -> downscaled JPEG frames over /capture, at most 2 in flight.
(function () {
  "use strict";
  var i18n = JSON.parse(document.getElementById("i18n").textContent);
  var panel = document.querySelector(".capture-panel");
  var video = document.getElementById("video"), overlay = document.getElementById("overlay");
  var statusEl = document.getElementById("capture-status"), fpsEl = document.getElementById("fps"), facesEl = document.getElementById("faces");
  var startBtn = document.getElementById("start"), stopBtn = document.getElementById("stop"), facing = document.getElementById("facing");
  var token = new URLSearchParams(location.hash.slice(1)).get("token");
  var WIDTH = 640, QUALITY = 0.8, MAX_IN_FLIGHT = 2, FRAME_TIMEOUT = 3000;
  var refusedUntil = 0, fps = 5, socket = null, stream = null, running = false, inflight = {}, analysed = [], wakeLock = null, timer = null;
  var canvas = document.createElement("canvas");
  // Frames per second in the page's language ("0,6" in French), as the server writes its numbers.
  var rate = new Intl.NumberFormat(document.documentElement.lang || undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
  var banner = document.getElementById("analysis-banner"), bannerText = document.getElementById("analysis-text");
  var finished = false, purposeRefused = false;

  // The panel's data-state says which state the page is in (tests and styles read it).
  function say(text, cls, state) {
    statusEl.textContent = text; statusEl.className = "status " + (cls || "");
    if (state) { panel.dataset.state = state; }
  }
  function analysis(on) {
    bannerText.textContent = on ? i18n.analysis_on : i18n.analysis_off;
    banner.classList.toggle("off", !on);
  }
  // The language form comes back to this very page, its #token included.
  var next = document.querySelector("form.lang input[name=next]");
  // While the camera runs, the page in the other language starts it again by itself (autostart).
  function comeBack(running) {
    if (!next) { return; }
    var query = new URLSearchParams(location.search);
    if (running) { query.set("autostart", "1"); } else { query.delete("autostart"); }
    var search = query.toString();
    next.value = location.pathname + (search ? "?" + search : "") + location.hash;
  }
  comeBack(false);
  if (!token) { say(i18n.no_token, "error final", "no_token"); panel.classList.add("final"); analysis(false); return; }

  function inFlight() {
    var now = Date.now();
    Object.keys(inflight).forEach(function (k) { if (now - inflight[k] > FRAME_TIMEOUT) { delete inflight[k]; } });
    return Object.keys(inflight).length;
  }

  function clearBoxes() {
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
    facesEl.textContent = "0";
  }

  // Final: the server refused this link (wrong, renewed or deleted camera). No retry: a new link is needed.
  function finish(text, state) {
    if (finished) { return; }
    finished = true;
    stop();
    say(text, "error final", state);
    analysis(false); panel.classList.add("final");
    startBtn.hidden = true; stopBtn.hidden = true; facing.disabled = true;
    if (socket) { socket.io.reconnection(false); socket.disconnect(); }
  }

  function drawResults(ev) {
    var ctx = overlay.getContext("2d");
    overlay.width = video.videoWidth; overlay.height = video.videoHeight;
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    var sx = overlay.width / (ev.width || overlay.width), sy = overlay.height / (ev.height || overlay.height);
    ctx.lineWidth = 3; ctx.font = "bold 18px sans-serif";
    ev.faces.forEach(function (f) {
      var b = f.box;
      ctx.strokeStyle = f.emotion ? "#2ca02c" : "#aaaaaa";
      ctx.strokeRect(b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy);
      var label = f.emotion ? i18n[f.emotion] + " " + Math.round(f.confidence * 100) + "%" : (i18n[f.reason] || "");
      ctx.fillStyle = "rgba(0,0,0,0.6)"; ctx.fillRect(b[0] * sx, b[1] * sy - 24, ctx.measureText(label).width + 8, 24);
      ctx.fillStyle = "#fff"; ctx.fillText(label, b[0] * sx + 4, b[1] * sy - 6);
    });
    facesEl.textContent = ev.faces.length;
  }

  function sendFrame() {
    if (!running || !socket || !socket.connected || document.hidden || video.readyState < 2) { return; }
    if (inFlight() >= MAX_IN_FLIGHT || Date.now() < refusedUntil) { return; }
    var scale = Math.min(1, WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale); canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { return; }
      blob.arrayBuffer().then(function (buf) {
        var key = String(Date.now()) + Math.random();
        inflight[key] = Date.now();
        socket.emit("frame", { ts: Date.now(), jpeg: buf }, function (ack) {
          if (!ack || !ack.ok) {
            delete inflight[key];
            if (ack && ack.error === "token_revoked") { finish(i18n.refused, "revoked"); return; }
            // Refused for the site's declared purpose: say so, and ask again only every 10 s.
            if (ack && i18n[ack.error]) { refusePurpose(ack.error); }
            return;
          }
          inflight[ack.frame_id] = inflight[key]; delete inflight[key];
          if (purposeRefused) { purposeRefused = false; analysis(true); say(i18n.connected, "online", "online"); }
        });
      });
    }, "image/jpeg", QUALITY);
  }

  function refusePurpose(reason) {
    purposeRefused = true; refusedUntil = Date.now() + 10000;
    analysis(false); clearBoxes();
    say(i18n[reason], "error", "purpose_refused");
  }

  function showName(info) {
    if (!info.name) { return; }
    document.getElementById("camera-label").textContent = info.name;
    document.getElementById("site-label").textContent = info.site_name || "";
    document.getElementById("camera-name").hidden = false;
  }

  function connect() {
    socket = io("/capture", { auth: { token: token }, transports: ["websocket", "polling"], reconnection: true });
    // "ready" comes with the connection, before "connect" fires: it alone says whether analysis runs.
    socket.on("ready", function (info) {
      fps = info.fps || fps;
      showName(info);
      if (info.refusal && i18n[info.refusal]) { refusePurpose(info.refusal); }
      else { purposeRefused = false; analysis(true); if (running) { say(i18n.connected, "online", "online"); } }
      schedule();
    });
    socket.on("disconnect", function () {
      inflight = {};
      if (!finished && running) { say(i18n.disconnected, "offline", "offline"); }
    });
    socket.on("connect_error", function (err) {
      if (err && err.message === "invalid_token") { finish(i18n.refused, "invalid_token"); }
      else if (!finished) { say(i18n.disconnected, "offline", "offline"); }
    });
    socket.on("revoked", function () { finish(i18n.refused, "revoked"); });
    socket.on("result", function (ev) {
      delete inflight[ev.frame_id];
      if (!running) { return; }  // a late result after Stop draws no box over a black video
      analysed.push(Date.now());
      drawResults(ev);
    });
    socket.on("frame_error", function (ev) { delete inflight[ev.frame_id]; });
  }

  function schedule() { clearInterval(timer); timer = setInterval(sendFrame, 1000 / fps); }

  function requestWakeLock() {
    if ("wakeLock" in navigator) {
      navigator.wakeLock.request("screen").then(function (lock) { wakeLock = lock; }).catch(function () {});
    }
  }

  function start() {
    if (finished) { return; }
    say(i18n.connecting, "", "connecting");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: facing.value, width: { ideal: 1280 } }, audio: false })
      .then(function (s) {
        stream = s; video.srcObject = s; running = true; comeBack(true);
        if (finished) { stop(); return; }
        startBtn.hidden = true; stopBtn.hidden = false;
        requestWakeLock();
        if (!socket) { connect(); } else if (!socket.connected) { socket.connect(); }
        else if (purposeRefused) { say(i18n.purpose_not_allowed, "error", "purpose_refused"); }
        else { analysis(true); say(i18n.connected, "online", "online"); }
        schedule();
      })
      .catch(function () { if (!finished) { say(i18n.no_camera, "error", "no_camera"); } });
  }

  function stop() {
    running = false; clearInterval(timer); comeBack(false);
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
    video.srcObject = null; inflight = {}; clearBoxes(); analysis(false);
    analysed = []; fpsEl.textContent = rate.format(0);
    startBtn.hidden = finished; stopBtn.hidden = true;
  }

  setInterval(function () {
    var now = Date.now();
    analysed = analysed.filter(function (t) { return now - t < 5000; });
    fpsEl.textContent = rate.format(analysed.length / 5);
  }, 1000);

  document.addEventListener("visibilitychange", function () {
    if (finished || purposeRefused) { return; }
    if (document.hidden) { if (running) { say(i18n.paused, "", "paused"); } }
    else if (running) { requestWakeLock(); if (socket && socket.connected) { say(i18n.connected, "online", "online"); } }
  });
  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", function () { stop(); if (!purposeRefused) { say(i18n.stopped, "", "stopped"); } });
  facing.addEventListener("change", function () { if (running) { stop(); start(); } });
  if (panel.dataset.autostart !== "false" && new URLSearchParams(location.search).get("autostart") === "1") { start(); }
  window.emotiscanCapture = { sent: function () { return analysed.length; } };
})();
