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

  function say(text, cls) { statusEl.textContent = text; statusEl.className = "status " + (cls || ""); }
  if (!token) { say(i18n.no_token, "error"); startBtn.disabled = true; return; }

  function inFlight() {
    var now = Date.now();
    Object.keys(inflight).forEach(function (k) { if (now - inflight[k] > FRAME_TIMEOUT) { delete inflight[k]; } });
    return Object.keys(inflight).length;
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
            // Refused for the site's declared purpose: say so, and ask again only every 10 s.
            if (ack && i18n[ack.error]) { say(i18n[ack.error], "error"); refusedUntil = Date.now() + 10000; }
            return;
          }
          inflight[ack.frame_id] = inflight[key]; delete inflight[key];
        });
      });
    }, "image/jpeg", QUALITY);
  }

  function connect() {
    socket = io("/capture", { auth: { token: token }, transports: ["websocket", "polling"], reconnection: true });
    socket.on("connect", function () { say(i18n.connected, "online"); });
    socket.on("ready", function (info) {
      fps = info.fps || fps;
      if (info.refusal && i18n[info.refusal]) { say(i18n[info.refusal], "error"); refusedUntil = Date.now() + 10000; }
      schedule();
    });
    socket.on("disconnect", function () { inflight = {}; say(i18n.disconnected, "offline"); });
    socket.on("connect_error", function (err) {
      if (err && err.message === "invalid_token") { say(i18n.refused, "error"); socket.disconnect(); stop(); }
      else { say(i18n.disconnected, "offline"); }
    });
    socket.on("revoked", function () { say(i18n.refused, "error"); socket.disconnect(); stop(); });
    socket.on("result", function (ev) {
      delete inflight[ev.frame_id];
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
    say(i18n.connecting);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: facing.value, width: { ideal: 1280 } }, audio: false })
      .then(function (s) {
        stream = s; video.srcObject = s; running = true;
        startBtn.hidden = true; stopBtn.hidden = false;
        requestWakeLock();
        if (!socket) { connect(); } else if (!socket.connected) { socket.connect(); }
        schedule();
      })
      .catch(function () { say(i18n.no_camera, "error"); });
  }

  function stop() {
    running = false; clearInterval(timer);
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
    startBtn.hidden = false; stopBtn.hidden = true;
  }

  setInterval(function () {
    var now = Date.now();
    analysed = analysed.filter(function (t) { return now - t < 5000; });
    fpsEl.textContent = (analysed.length / 5).toFixed(1);
  }, 1000);

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { if (running) { say(i18n.paused); } }
    else if (running) { requestWakeLock(); if (socket && socket.connected) { say(i18n.connected, "online"); } }
  });
  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", function () { stop(); say(i18n.stopped); });
  facing.addEventListener("change", function () { if (running) { stop(); start(); } });
  if (panel.dataset.autostart !== "false" && new URLSearchParams(location.search).get("autostart") === "1") { start(); }
  window.emotiscanCapture = { sent: function () { return analysed.length; } };
})();
