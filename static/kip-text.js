/* Values from data into KIP's pages as text, never as markup.
 *
 * A title, a name, a reason or a contact may hold whatever a planner, a partner's system or
 * an import gave, "<a href=...>" included. Leaflet takes a string given to bindPopup,
 * bindTooltip or a divIcon's html as HTML (innerHTML), and so did Folium's GeoJsonTooltip.
 * KIP's scripts therefore never hand them a string: they hand them elements made here,
 * whose text is set with textContent. Every map uses this one helper: static/kip-map.js (the
 * public map and the plan) and the tooltips of kip.maps (the small map of a work or a
 * clash), which loads this file with every map.
 */
(function () {
  "use strict";

  /* An element `tag` with `text` as its text (none when text is null or undefined) and the
   * class `cls`. */
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  /* A <div> of class `cls` with one line (a <div>) per value, as text; empty values are
   * left out. */
  function lines(values, cls) {
    var box = el("div", null, cls);
    values.forEach(function (value) {
      if (value !== undefined && value !== null && value !== "") { box.appendChild(el("div", value)); }
    });
    return box;
  }

  window.kipText = { el: el, lines: lines };
}());
