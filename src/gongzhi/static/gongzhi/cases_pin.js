// The pin of a case. On the "raise a matter" page (data-editable) a click puts the pin,
// writes its point into the form's hidden latitude/longitude fields and asks the server
// which grid it falls in (data-where); on a case page the map only shows where it is.
// Outlines (the city and its districts, or the case's grid) orient people when no tile
// server is configured.
(function () {
  // Names are text people typed: a string given to Leaflet would be parsed as HTML.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  var el = document.getElementById("pin-map");
  if (!el || typeof L === "undefined") { return; }
  var editable = el.dataset.editable === "1";
  var latField = editable ? document.getElementById(el.dataset.latField) : null;
  var lngField = editable ? document.getElementById(el.dataset.lngField) : null;
  var readout = document.getElementById("pin-readout");
  var place = document.getElementById("pin-place");
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }

  var outlines = L.geoJSON(JSON.parse(el.dataset.regions || "[]"), {
    interactive: false,
    style: function (feature) {
      var level = feature && feature.properties ? feature.properties.level : 0;
      if (level === 1) { return { color: "#b3261e", weight: 2, fillOpacity: 0.03, className: "city-outline" }; }
      if (level === 2) { return { color: "#8c1d18", weight: 1, dashArray: "4 4", fill: false, className: "district-outline" }; }
      return { color: "#b3261e", weight: 2, fillOpacity: 0.05 };
    },
    onEachFeature: function (feature, layer) {
      if (feature.properties && feature.properties.level === 2) {
        layer.bindTooltip(asText(feature.properties.name), { permanent: true, direction: "center", className: "region-label" });
      }
    }
  }).addTo(map);
  var marker = null;
  var asked = 0;

  function where(lat, lng) {
    if (!place || !el.dataset.where) { return; }
    var ticket = ++asked;
    var params = new URLSearchParams({ lat: String(lat), lng: String(lng) });
    fetch(el.dataset.where + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (answer) {
        if (ticket !== asked) { return; }
        place.classList.toggle("form-error", !answer.ok);
        place.textContent = answer.ok ? answer.body.trail.join(" › ") : (answer.body.message || place.dataset.outside);
      })
      .catch(function () { if (ticket === asked) { place.textContent = ""; } });
  }

  function place_pin(lat, lng, ask) {
    var point = L.latLng(lat, lng);
    if (marker) { marker.setLatLng(point); } else { marker = L.marker(point, { keyboard: false }).addTo(map); }
    if (latField && lngField) {
      latField.value = lat.toFixed(6);
      lngField.value = lng.toFixed(6);
    }
    if (readout && editable) { readout.textContent = lat.toFixed(5) + ", " + lng.toFixed(5); }
    if (ask) { where(lat, lng); }
  }

  var startLat = parseFloat(latField ? latField.value : el.dataset.lat);
  var startLng = parseFloat(lngField ? lngField.value : el.dataset.lng);
  var hasStart = isFinite(startLat) && isFinite(startLng);

  if (outlines.getLayers().length) {
    map.fitBounds(outlines.getBounds(), { padding: [8, 8] });
  } else if (hasStart) {
    map.setView([startLat, startLng], 15);
  } else {
    map.setView([0, 0], 1);
  }
  if (hasStart) { place_pin(startLat, startLng, editable); }
  if (editable) {
    el.classList.add("pickable");
    map.on("click", function (event) { place_pin(event.latlng.lat, event.latlng.lng, true); });
  }
})();
