// Draws a region's boundary with Leaflet. Tiles only when the deployment configures a
// tile server (GONGZHI_MAP_TILES_URL); otherwise the outline is drawn on a blank map.
(function () {
  var el = document.getElementById("region-map");
  if (!el || typeof L === "undefined") { return; }
  var boundary = JSON.parse(el.dataset.boundary || "null");
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
  if (boundary) {
    var layer = L.geoJSON(boundary, { style: { color: "#b3261e", weight: 2, fillOpacity: 0.08 } }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  } else {
    map.setView([0, 0], 1);
  }
})();
