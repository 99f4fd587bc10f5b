/* KIP's forms with a map to draw on (a work, a dig ban): keep the hidden geometry field in
 * step with the shapes on the map.
 *
 * The form's map (built by kip.maps with Leaflet.draw) sits in an element with
 * `data-geometry-input` (the id of the hidden field); the map exposes itself on its element
 * as `kipMap` and the layer of drawn shapes as `kipDrawn`. The field holds GeoJSON in
 * EPSG:4326: a FeatureCollection of the drawn shapes; the server joins several shapes of one
 * kind into one multi-part geometry and refuses mixed kinds (and kinds the form does not
 * take). The element gets `data-shapes` (how many shapes) and `data-ready`.
 */
(function () {
  "use strict";

  var MULTI = { MultiPoint: "Point", MultiLineString: "LineString", MultiPolygon: "Polygon" };

  // One feature per part, so each part of a multi-part work can be edited on its own.
  function singleParts(data) {
    var out = [];
    function add(geometry) {
      if (!geometry) { return; }
      if (MULTI[geometry.type]) {
        geometry.coordinates.forEach(function (c) {
          out.push({ type: "Feature", properties: {}, geometry: { type: MULTI[geometry.type], coordinates: c } });
        });
      } else if (geometry.type === "GeometryCollection") {
        geometry.geometries.forEach(add);
      } else {
        out.push({ type: "Feature", properties: {}, geometry: geometry });
      }
    }
    if (data.type === "FeatureCollection") {
      data.features.forEach(function (f) { add(f.geometry); });
    } else if (data.type === "Feature") {
      add(data.geometry);
    } else {
      add(data);
    }
    return out;
  }

  function setUp(wrapper) {
    var element = wrapper.querySelector(".kip-map");
    var input = document.getElementById(wrapper.getAttribute("data-geometry-input"));
    if (!element || !input || !element.kipMap || !element.kipDrawn) { return; }
    var map = element.kipMap;
    var drawn = element.kipDrawn;

    if (input.value) {
      try {
        L.geoJSON({ type: "FeatureCollection", features: singleParts(JSON.parse(input.value)) })
          .eachLayer(function (layer) { drawn.addLayer(layer); });
      } catch (e) {
        // Text the server could not read either: it says so next to the map.
      }
      if (drawn.getLayers().length) {
        map.fitBounds(drawn.getBounds(), { maxZoom: 17, padding: [20, 20] });
      }
    }

    function write() {
      var layers = drawn.getLayers();
      // toGeoJSON(false): full precision, so an untouched shape comes back unchanged.
      input.value = layers.length ? JSON.stringify(drawn.toGeoJSON(false)) : "";
      wrapper.setAttribute("data-shapes", String(layers.length));
    }

    map.on("draw:created draw:edited draw:deleted draw:editvertex draw:editmove", function () {
      // Leaflet.draw adds a created shape to the layer in its own handler; write after it.
      window.setTimeout(write, 0);
    });
    // Shapes changed in edit mode without pressing "Save" are taken as they are.
    if (input.form) { input.form.addEventListener("submit", write); }
    wrapper.setAttribute("data-shapes", String(drawn.getLayers().length));
    wrapper.setAttribute("data-ready", "true");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-geometry-input]"), setUp);
})();
