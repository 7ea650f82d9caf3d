// The map of cases: fetches the points the person may see (cases/map.json) for the chosen
// filters and draws one circle per case, coloured by its deadline warning. The filter form
// works without JavaScript too (it reloads the page); with it, a change redraws in place.
(function () {
  // Names are text people typed: a string given to Leaflet would be parsed as HTML.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  var el = document.getElementById("case-map");
  var form = document.getElementById("map-filters");
  var status = document.getElementById("map-status");
  if (!el || !form || typeof L === "undefined") { return; }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
  var outlines = L.geoJSON(JSON.parse(el.dataset.regions || "[]"), {
    interactive: false,
    style: function (feature) {
      return feature.properties && feature.properties.level === 1
        ? { color: "#b3261e", weight: 2, fillOpacity: 0.03 }
        : { color: "#8c1d18", weight: 1, dashArray: "4 4", fill: false };
    },
    onEachFeature: function (feature, layer) {
      if (feature.properties && feature.properties.level > 1) {
        layer.bindTooltip(asText(feature.properties.name), { permanent: true, direction: "center", className: "region-label" });
      }
    }
  }).addTo(map);
  if (outlines.getLayers().length) { map.fitBounds(outlines.getBounds(), { padding: [8, 8] }); } else { map.setView([0, 0], 1); }
  var markers = L.layerGroup().addTo(map);
  var CLOSED = { rejected: true, closed: true, merged: true };
  var COLOURS = { none: "#1a7f37", yellow: "#dc9a00", red: "#b3261e" };

  function say(key, n) {
    status.textContent = (status.dataset[key] || "").replace("{n}", n);
  }

  function popup(c) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = c.url;
    link.textContent = c.number;
    var title = document.createElement("div");
    title.textContent = c.title;
    var state = document.createElement("div");
    state.className = "muted";
    state.textContent = c.state_label;
    box.appendChild(link);
    box.appendChild(title);
    box.appendChild(state);
    return box;
  }

  function draw(data) {
    markers.clearLayers();
    var bounds = [];
    data.cases.forEach(function (c) {
      var colour = CLOSED[c.state] ? "#667085" : (COLOURS[c.warning] || COLOURS.none);
      L.circleMarker([c.lat, c.lng], {
        radius: c.supervised ? 9 : 7, color: "#fff", weight: c.supervised ? 3 : 1.5,
        fillColor: colour, fillOpacity: 0.9, className: "case-marker case-" + c.state
      }).bindPopup(popup(c)).addTo(markers);
      bounds.push([c.lat, c.lng]);
    });
    if (data.truncated) { say("truncated", data.count); } else if (data.count) { say("some", data.count); } else { say("none", 0); }
    el.dataset.count = String(data.count);
  }

  function load() {
    var params = new URLSearchParams(new FormData(form));
    say("loading", 0);
    fetch(el.dataset.source + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(draw)
      .catch(function () { say("failed", 0); });
  }

  form.addEventListener("change", load);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
    history.replaceState(null, "", "?" + new URLSearchParams(new FormData(form)).toString());
  });
  load();
})();
