// Main navigation: the Menu button (narrow screens) and the group buttons (Alerts, Organisation,
// Account) toggle their lists; Escape or a click elsewhere closes them. Without this script the
// lists stay open (see .mainnav.enhanced in app.css), so every link is still reachable.
(function () {
  "use strict";
  var nav = document.querySelector(".mainnav");
  if (!nav) { return; }
  nav.classList.add("enhanced");
  var toggle = nav.querySelector(".nav-toggle");
  var groups = Array.prototype.slice.call(nav.querySelectorAll(".group-toggle"));
  if (toggle) { toggle.hidden = false; }

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (target) { target.classList.toggle("open", open); }
  }
  function closeGroups(except) {
    groups.forEach(function (b) { if (b !== except) { setOpen(b, false); } });
  }
  if (toggle) {
    toggle.addEventListener("click", function () {
      setOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
    });
  }
  groups.forEach(function (b) {
    b.addEventListener("click", function () {
      var open = b.getAttribute("aria-expanded") !== "true";
      closeGroups(b);
      setOpen(b, open);
      if (open) {
        var first = document.getElementById(b.getAttribute("aria-controls")).querySelector("a, button");
        if (first && window.matchMedia("(min-width: 1000px)").matches) { first.focus(); }
      }
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") { return; }
    var open = groups.filter(function (b) { return b.getAttribute("aria-expanded") === "true"; })[0];
    if (open) { setOpen(open, false); open.focus(); return; }
    if (toggle && toggle.getAttribute("aria-expanded") === "true") { setOpen(toggle, false); toggle.focus(); }
  });
  document.addEventListener("click", function (ev) {
    if (!nav.contains(ev.target)) {
      closeGroups(null);
      if (toggle) { setOpen(toggle, false); }
    }
  });
  // Focus leaving a dropdown (Tab past its last link) closes it on wide screens.
  nav.addEventListener("focusout", function (ev) {
    if (!window.matchMedia("(min-width: 1000px)").matches) { return; }
    groups.forEach(function (b) {
      var li = b.parentNode;
      if (ev.relatedTarget && !li.contains(ev.relatedTarget)) { setOpen(b, false); }
    });
  });
})();
