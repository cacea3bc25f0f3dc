// Report page: the hourly chart (Chart.js from our own static files), custom dates shown only
// when chosen, and feedback while the PDF is prepared.
(function () {
  "use strict";
  var period = document.getElementById("r-period");
  var custom = document.querySelector(".custom-dates");
  function toggle() { if (period && custom) { custom.hidden = period.value !== "custom"; } }
  if (period) { period.addEventListener("change", toggle); toggle(); }

  document.querySelectorAll("a.busy-on-click").forEach(function (link) {
    link.addEventListener("click", function () {
      var text = link.textContent;
      link.textContent = link.getAttribute("data-busy");
      link.setAttribute("aria-busy", "true");
      // A download does not leave the page: restore the label once it has had time to start.
      setTimeout(function () { link.textContent = text; link.removeAttribute("aria-busy"); }, 4000);
    });
  });

  var data = document.getElementById("report-data");
  var canvas = document.getElementById("hourly-chart");
  if (!data || !canvas || typeof Chart === "undefined") { return; }
  var report = JSON.parse(data.textContent);
  // The classes' colours, from their one definition (app/inference/labels.py, via app.labels.face_outputs).
  var colours = JSON.parse(document.getElementById("face-outputs").textContent).colours;
  // A line needs two hours: with few hours draw each as a point, so one hour of data shows.
  var radius = report.labels.length <= 48 ? 3 : 0;
  var percent = new Intl.NumberFormat(document.documentElement.lang || undefined, {style: "percent", maximumFractionDigits: 0});
  new Chart(canvas, {
    type: "line",
    data: {
      labels: report.labels,
      datasets: report.series.map(function (s) {
        return {label: s.label, data: s.values, borderColor: colours[s.key], backgroundColor: colours[s.key],
                pointRadius: radius, borderWidth: 1.5, spanGaps: false};
      })
    },
    options: {
      // Axis and tooltip numbers in the page's language ("0,4" in French).
      locale: document.documentElement.lang || undefined,
      animation: false, responsive: true, maintainAspectRatio: false, interaction: {mode: "index", intersect: false},
      // Shares as percentages, as everywhere else in the product ("40 %" in French).
      plugins: {tooltip: {callbacks: {label: function (c) {
        return c.dataset.label + " " + percent.format(c.parsed.y);
      }}}},
      scales: {y: {min: 0, max: 1, ticks: {callback: function (v) { return percent.format(v); }}},
               x: {offset: report.labels.length < 3, ticks: {maxTicksLimit: 12}}}
    }
  });
})();
