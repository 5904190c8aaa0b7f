// The base of every map on the site (the dashboard's and the admin's): Natural Earth's country outlines,
// which are served from this site, and a tile layer only where the site names a tile service (MAP_TILE_URL).
// Without one, the map makes no request off the site.
"use strict";

function trackerBasemap(container, { outlines, tileUrl = "", tileAttribution = "", ...options }) {
  const map = L.map(container, { minZoom: 1, maxZoom: 18, zoomSnap: 0.25, worldCopyJump: true, ...options });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (tileUrl) L.tileLayer(tileUrl, { attribution: tileAttribution, maxZoom: 18 }).addTo(map);
  L.geoJSON(outlines, {
    interactive: false,
    attribution: 'Outlines: <a href="https://www.naturalearthdata.com/">Natural Earth</a>',
    style: { className: "country-outline", weight: 0.6, fill: !tileUrl },
  }).addTo(map);
  return map;
}

// The date as precisely as it is known: a month- or year-precise date is stored as its first day.
function dateText(occurredOn, precision) {
  if (precision === "year") return `${occurredOn.slice(0, 4)} (year only)`;
  if (precision === "month") {
    const month = new Date(`${occurredOn.slice(0, 7)}-01T00:00:00Z`)
      .toLocaleString("en", { month: "long", year: "numeric", timeZone: "UTC" });
    return `${month} (month only)`;
  }
  return occurredOn;
}
