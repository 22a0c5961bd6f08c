/* The search page's map: the results on this page as numbered markers, and the search circle.
 *
 * Progressive enhancement only. The list already holds every fact the map shows, so without JavaScript
 * (or without Leaflet) the map's figure simply stays hidden. Everything the map needs arrives in data-
 * attributes, never in an inline script, because the Content-Security-Policy allows scripts from 'self'
 * only: the origin, radius and tile server on #results-map, and each result's position, name, link and
 * number on its list item. Popups are built as DOM nodes rather than HTML strings, so a therapist's name
 * can never become markup.
 *
 * With no tile URL configured (tests, or a deployment that does not want a tile server) the map draws
 * the markers and the circle on a plain background, with a scale bar for distance.
 */
(function () {
  "use strict";

  var element = document.getElementById("results-map");
  if (!element || typeof window.L === "undefined") {
    return;
  }
  var L = window.L;
  var data = element.dataset;
  var center = L.latLng(parseFloat(data.lat), parseFloat(data.lon));
  var radiusMeters = parseFloat(data.radiusMeters);
  if (!isFinite(center.lat) || !isFinite(center.lng) || !(radiusMeters > 0)) {
    return;
  }

  // Shown before the map is made: Leaflet measures its container, and a hidden one measures 0 x 0.
  var figure = element.closest("figure");
  if (figure) {
    figure.hidden = false;
  }

  var map = L.map(element, {
    keyboard: false, // the list is the keyboard route to every result; the map adds no tab stops of its own
    scrollWheelZoom: false, // scrolling the page must not zoom the map by surprise
    zoomSnap: 0.25,
  });

  if (data.tileUrl) {
    L.tileLayer(data.tileUrl, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add("results-map-plain");
  }

  L.circle(center, {
    radius: radiusMeters,
    className: "search-circle",
    color: "#1c5b5f",
    weight: 2,
    fillColor: "#1c5b5f",
    fillOpacity: 0.06,
    interactive: false,
  }).addTo(map);
  L.circleMarker(center, {
    radius: 5,
    className: "search-origin",
    color: "#ffffff",
    weight: 2,
    fillColor: "#b34700",
    fillOpacity: 1,
    interactive: false,
  }).addTo(map);
  L.control.scale({ imperial: data.unit !== "km", metric: data.unit === "km" }).addTo(map);

  var items = Array.prototype.slice.call(document.querySelectorAll("[data-marker-lat]"));
  var results = items
    .map(function (item) {
      return {
        number: item.dataset.markerNumber,
        lat: parseFloat(item.dataset.markerLat),
        lon: parseFloat(item.dataset.markerLon),
        name: item.dataset.markerName,
        url: item.dataset.markerUrl,
        detail: item.dataset.markerDetail,
      };
    })
    .filter(function (r) {
      return isFinite(r.lat) && isFinite(r.lon);
    });

  // Practices are placed at ZIP centroids, so several results often share one point and their markers
  // stack. Each popup lists everyone at its point, so nobody is hidden under a neighbour's marker.
  var byPoint = {};
  results.forEach(function (r) {
    var key = r.lat.toFixed(5) + "," + r.lon.toFixed(5);
    (byPoint[key] = byPoint[key] || []).push(r);
  });

  function popupFor(here) {
    var box = document.createElement("div");
    box.className = "map-popup";
    here.forEach(function (r) {
      var line = document.createElement("p");
      var number = document.createElement("span");
      number.className = "map-popup-number";
      number.textContent = r.number + ".";
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = r.name;
      var detail = document.createElement("span");
      detail.className = "map-popup-detail";
      detail.textContent = r.detail;
      line.append(number, " ", link, detail);
      box.appendChild(line);
    });
    return box;
  }

  results.forEach(function (r, index) {
    var here = byPoint[r.lat.toFixed(5) + "," + r.lon.toFixed(5)];
    var label = document.createElement("span");
    label.textContent = r.number;
    var marker = L.marker([r.lat, r.lon], {
      icon: L.divIcon({
        className: "map-marker",
        html: label,
        iconSize: [30, 30],
        iconAnchor: [15, 15],
        popupAnchor: [0, -14],
      }),
      title: r.number + ". " + r.name + ", " + r.detail,
      keyboard: false,
      riseOnHover: true,
      zIndexOffset: (results.length - index) * 100, // where markers overlap, the lower number is on top
    });
    marker.bindPopup(popupFor(here), { maxWidth: 280 });
    marker.addTo(map);
  });

  // Frame the whole search circle: the area searched is part of the answer ("nobody further out").
  map.fitBounds(center.toBounds(radiusMeters * 2), { padding: [12, 12] });
})();
