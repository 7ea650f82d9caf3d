// The command centre and the public page: a heat map of the grids (Leaflet) and charts
// (ECharts, from npm: `make assets`). Every figure is also in a table on the page; once a
// chart or the map is drawn, its table folds away (it stays one click away). Without
// ECharts or Leaflet the tables simply stay open.
(function () {
  // Names are text people typed: a string given to Leaflet would be parsed as HTML.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  var source = document.getElementById("dashboard-charts");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  var labels = data.labels || {};

  function fold(el) {
    var card = el.closest(".card");
    var table = card && card.querySelector("details.chart-table");
    if (table) { table.open = false; }
  }

  function heatMap() {
    var el = document.getElementById("heat-map");
    if (!el || typeof L === "undefined") { return; }
    var heat = data.heat;
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    function colour(count) {
      if (!count) { return heat.empty; }
      for (var i = 0; i < heat.classes.length; i++) {
        if (count <= heat.classes[i].high) { return heat.classes[i].colour; }
      }
      return heat.classes[heat.classes.length - 1].colour;
    }
    var layer = L.geoJSON(heat, {
      style: function (feature) {
        return { color: "#8c1d18", weight: 0.6, fillColor: colour(feature.properties.count), fillOpacity: 0.85 };
      },
      onEachFeature: function (feature, shape) {
        shape.bindTooltip(asText(feature.properties.name + ": " + feature.properties.count), { className: "grid-tip", sticky: true });
      }
    }).addTo(map);
    if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [6, 6] }); } else { map.setView([0, 0], 1); }
    el.dataset.grids = String(layer.getLayers().length);
    fold(el);
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") { return null; }
    el.classList.add("chart-drawn");  // shown first: ECharts takes its size from the element
    var instance = echarts.init(el, null, { renderer: "canvas" });
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
    el.dataset.rendered = "true";
    fold(el);
    return instance;
  }

  var RED = "#b3261e", GREEN = "#1a7f37", AMBER = "#dc9a00";
  // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style="" attributes, which
  // the Content-Security-Policy (style-src 'self') refuses.
  function tooltip(options) {
    var merged = { trigger: "axis", renderMode: "richText" };
    Object.keys(options || {}).forEach(function (key) { merged[key] = options[key]; });
    return merged;
  }
  var grid = { left: 48, right: 16, top: 36, bottom: 28, containLabel: false };
  // Rates sit near the top: start the axis a little below the lowest value, not at 0.
  var percent = {
    type: "value", max: 100, axisLabel: { formatter: "{value}%" },
    min: function (range) { return Math.max(0, Math.floor((range.min - 5) / 10) * 10); }
  };

  function charts() {
    var trend = data.trend;
    chart("trend-cases", {
      color: [RED],
      tooltip: tooltip(),
      legend: { data: [labels.cases], top: 0 },
      grid: grid,
      xAxis: { type: "category", data: trend.months },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: labels.cases, type: "bar", data: trend.cases }]
    });
    chart("trend-rates", {
      color: [GREEN, AMBER],
      tooltip: tooltip({ valueFormatter: function (v) { return v == null ? "—" : v + "%"; } }),
      legend: { data: [labels.satisfaction, labels.on_time], top: 0 },
      grid: grid,
      xAxis: { type: "category", data: trend.months },
      yAxis: percent,
      series: [
        { name: labels.satisfaction, type: "line", data: trend.satisfaction, connectNulls: false },
        { name: labels.on_time, type: "line", data: trend.on_time, connectNulls: false }
      ]
    });
    var areas = data.areas;
    var el = document.getElementById("area-scores");
    if (el && areas.names.length) {
      var row = areas.names.length > 20 ? 16 : 26;
      el.style.height = Math.max(200, row * areas.names.length + 60) + "px";
      chart("area-scores", {
        color: [RED],
        tooltip: tooltip({ valueFormatter: function (v) { return v == null ? labels.no_score : v; } }),
        grid: { left: 8, right: 40, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100 },
        yAxis: { type: "category", data: areas.names.slice().reverse(), axisLabel: { interval: 0, fontSize: row < 20 ? 10 : 12 } },
        series: [{
          name: labels.score, type: "bar", data: areas.scores.slice().reverse(),
          label: { show: true, position: "right", fontSize: row < 20 ? 10 : 12 }
        }]
      });
    }
  }

  heatMap();
  charts();
})();
