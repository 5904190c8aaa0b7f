// The dashboard's map (Leaflet + Leaflet.markercluster, vendored). With few enough located incidents it
// clusters all of them; with more, it draws `stats/?group_by=grid` cells for the view and zoom, and the
// view's own incidents once few enough are in it. Precision is drawn as it is known: exact and locality
// points as pins; region-level as a shaded ring; country-level as the shaded country, never a pin on its
// capital.
"use strict";

const POINTS_MAX = 5000; // below this many located incidents (in all, or in the view) incidents are drawn
// Each size tiles a level of the grid rollup (whole multiples of 1, 0.1 or 0.01 degrees), so a map reads few rows.
const CELL_SIZES = [10, 5, 3, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01];
const CELLS_ACROSS = 20; // about this many grid cells across the map: room for each cell's count
const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const REGION_RADIUS_METRES = 75000; // "somewhere in this region": a ring about an admin1 region's size
const POINT_FIELDS = "id,title,occurred_on,date_precision,geo_precision,place,country,country_name";
const POPUP_FIELDS = "id,title,occurred_on,date_precision,geo_precision,place,country_name,verification,weapons,sources";
const AREA_POPUP_MAX = 20;

class IncidentMap {
  // `api` the API root; `load(url, accept)` fetches JSON; `describe(record)` makes an incident's popup block.
  // `onDraw(kind, items)` hears what was drawn: "incidents" (records) or "cells" (grid rows).
  constructor(container, { api, outlines, tileUrl, tileAttribution, load, describe, onDraw }) {
    Object.assign(this, { api, load, describe, onDraw });
    this.map = trackerBasemap(container, { outlines, tileUrl, tileAttribution });
    this.countryShapes = new Map(outlines.features.map((feature) => [feature.properties.code, feature]));
    this.drawn = L.layerGroup().addTo(this.map);
    this.filters = new URLSearchParams();
    this.request = 0; // answers to an older view or older filters are dropped
    this.map.on("moveend", () => { if (this.mode === "view") this.drawView(); });
    this.addShowAllControl();
  }

  url(path, extra) {
    const params = new URLSearchParams(this.filters);
    for (const [name, value] of Object.entries(extra)) params.set(name, value);
    return `${this.api}${path}?${params}`;
  }

  // Draw the incidents the filters select; answers {located, unlocated, mode}.
  async show(filters) {
    this.filters = filters;
    const request = ++this.request;
    const grid = await this.load(this.url("stats/", { group_by: "grid", cell: 2 }));
    if (request !== this.request) return null;
    this.located = grid.total.incidents - grid.total.unlocated;
    this.extent = this.frameOf(grid.results.map((row) => [row.center[1], row.center[0], row.incidents]));
    if (this.located <= POINTS_MAX) {
      this.mode = "all";
      const collection = await this.load(this.url("incidents/", { format: "geojson", fields: POINT_FIELDS }),
        "application/geo+json");
      if (request !== this.request) return null;
      this.drawIncidents(collection.features);
      this.fitMost(collection.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0], 1]));
    } else {
      this.mode = "view";
      this.fitMost(grid.results.map((row) => [row.center[1], row.center[0], row.incidents]));
      await this.drawView();
    }
    return { located: this.located, unlocated: grid.total.unlocated, mode: this.mode };
  }

  // --- Framing ----------------------------------------------------------------------------------------

  // Where most of the weight is, so that far-off incidents do not decide the frame: the box of the points
  // nearest the weighted median point that hold 80% of the weight (all of them, when there are few).
  // `points` are [lat, lon, weight]; "Show all" fits everything.
  frameOf(points) {
    if (!points.length) return null;
    const total = points.reduce((sum, point) => sum + point[2], 0);
    const median = (index) => {
      let seen = 0;
      return [...points].sort((a, b) => a[index] - b[index]).find((point) => (seen += point[2]) >= total / 2)[index];
    };
    const centre = L.latLng(median(0), median(1));
    const nearest = [...points].sort((a, b) => centre.distanceTo(a) - centre.distanceTo(b));
    const kept = points.length < 5 ? total : total * 0.8;
    const frame = L.latLngBounds([]);
    let seen = 0;
    for (const point of nearest) {
      frame.extend([point[0], point[1]]);
      if ((seen += point[2]) >= kept) break;
    }
    return frame;
  }

  fitMost(points) {
    const frame = this.frameOf(points);
    if (frame) this.map.fitBounds(frame.pad(0.05), { maxZoom: 9, animate: false });
    else this.map.fitBounds([[34, -12], [71, 42]], { animate: false }); // Europe when there is nothing
  }

  addShowAllControl() {
    const control = L.control({ position: "topright" });
    control.onAdd = () => {
      const button = L.DomUtil.create("button", "show-all");
      button.type = "button";
      button.textContent = "Show all";
      button.title = "Fit the map to every located incident";
      L.DomEvent.disableClickPropagation(button);
      L.DomEvent.on(button, "click", () => {
        const everything = this.mode === "all" ? this.allBounds : this.extent;
        if (everything?.isValid()) this.map.fitBounds(everything.pad(0.05), { maxZoom: 9 });
      });
      return button;
    };
    control.addTo(this.map);
  }

  // --- Incidents --------------------------------------------------------------------------------------

  drawIncidents(features) {
    // Close up (zoom 17 and more) every incident is drawn as itself, even where several share a point.
    const clusters = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 50, chunkedLoading: true, disableClusteringAtZoom: 17,
    });
    const byCountry = new Map();
    for (const feature of features) {
      const [lon, lat] = feature.geometry.coordinates;
      const record = { ...feature.properties, id: feature.id };
      if (record.geo_precision === "country" && this.countryShapes.has(record.country)) {
        byCountry.set(record.country, [...(byCountry.get(record.country) || []), record]);
      } else {
        clusters.addLayer(this.mark(record, lat, lon));
      }
    }
    const areas = [...byCountry].map(([country, incidents]) => this.countryArea(country, incidents));
    this.allBounds = L.latLngBounds(features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    this.drawn.clearLayers();
    for (const area of areas) this.drawn.addLayer(area);
    this.drawn.addLayer(clusters);
    this.clusters = clusters;
    this.drawnIds = features.map((feature) => feature.id).sort((a, b) => a - b);
    this.onDraw("incidents", features);
  }

  // A pin for a point known to the place; a shaded ring for one known only to its region.
  mark(record, lat, lon) {
    const label = `${record.title} (${dateText(record.occurred_on, record.date_precision)})`;
    const layer = record.geo_precision === "region"
      ? L.circle([lat, lon], { radius: REGION_RADIUS_METRES, className: "incident-area precision-region" })
      : L.marker([lat, lon], {
        icon: L.divIcon({ className: `incident-pin precision-${record.geo_precision || "exact"}`, iconSize: [14, 14] }),
        title: label, alt: label, keyboard: true,
      });
    layer.on("add", () => layer.getElement()?.setAttribute("data-id", record.id));
    layer.bindPopup(() => this.popupFor(`incidents/${record.id}/`, {}), { maxWidth: 360 });
    return layer;
  }

  // Incidents known only to their country: the country shaded, one popup listing them.
  countryArea(country, incidents) {
    const area = L.geoJSON(this.countryShapes.get(country), {
      style: { className: "incident-area precision-country" },
    });
    const name = incidents[0].country_name || country;
    area.on("add", () => area.eachLayer((shape) => {
      shape.getElement()?.setAttribute("data-country", country);
      shape.getElement()?.setAttribute("data-incidents", incidents.length);
    }));
    area.bindTooltip(`${incidents.length} placed only to ${name}`, { sticky: true });
    area.bindPopup(() => this.popupFor("incidents/", {
      country, geo_precision: "country", limit: AREA_POPUP_MAX, ordering: "-occurred_on",
    }, `${incidents.length} incidents placed only to ${name}, not to a place in it:`), { maxWidth: 360, maxHeight: 400 });
    return area;
  }

  // A popup's content, fetched when it opens: an incident (`incidents/{id}/`) or a list (`incidents/`).
  popupFor(path, extra, heading = null) {
    const box = document.createElement("div");
    box.className = "map-popup";
    box.textContent = "Loading…";
    const params = path === "incidents/" ? { ...Object.fromEntries(this.filters), ...extra } : extra;
    const query = new URLSearchParams({ ...params, fields: POPUP_FIELDS });
    this.load(`${this.api}${path}?${query}`).then((answer) => {
      const records = answer.results || [answer];
      const list = document.createElement("ul");
      list.className = "popup-incidents";
      list.append(...records.map((record) => this.describe(record)));
      box.replaceChildren(...(heading ? [Object.assign(document.createElement("p"), { textContent: heading })] : []), list);
      if (answer.next) box.append(Object.assign(document.createElement("p"), { textContent: "More are listed below the map." }));
    }).catch((error) => { box.textContent = `Could not load: ${error.message}`; });
    return box;
  }

  // --- Grid cells (many incidents) ---------------------------------------------------------------------

  // The view as a `bbox`, widened to whole cells of `cell` degrees: each cell is then counted whole (as it
  // is drawn), and the grid rollup answers without reading the incidents on the box's border.
  gridBox(cell) {
    const bounds = this.map.getBounds();
    const step = Math.round(cell * 100); // in hundredths of a degree, to keep the edges exact
    const snap = (value, round, low, high) => Math.min(high, Math.max(low, round((value * 100) / step) * step));
    const west = snap(bounds.getWest(), Math.floor, -18000, 18000 - step);
    const east = snap(bounds.getEast(), Math.ceil, west + step, 18000);
    const south = snap(bounds.getSouth(), Math.floor, -9000, 9000 - step);
    const north = snap(bounds.getNorth(), Math.ceil, south + step, 9000);
    return [west, south, east, north].map((value) => (value / 100).toFixed(2)).join(",");
  }

  cellSize() {
    const bounds = this.map.getBounds();
    const wanted = Math.min(360, bounds.getEast() - bounds.getWest()) / CELLS_ACROSS;
    return CELL_SIZES.find((size) => size <= wanted) ?? CELL_SIZES.at(-1);
  }

  async drawView() {
    const request = ++this.request;
    const started = performance.now();
    const cell = this.cellSize();
    const bbox = this.gridBox(cell);
    this.lastView = { cell, bbox };
    const grid = await this.load(this.url("stats/", { group_by: "grid", cell, bbox }));
    if (request !== this.request) return;
    const inView = grid.results.reduce((sum, row) => sum + row.incidents, 0);
    if (inView <= POINTS_MAX) {
      const collection = await this.load(this.url("incidents/", { format: "geojson", fields: POINT_FIELDS, bbox }),
        "application/geo+json");
      if (request !== this.request) return;
      this.drawIncidents(collection.features);
      this.drawnAs = "incidents";
    } else {
      this.drawCells(grid.results, cell);
      this.drawnAs = "cells";
    }
    this.lastDrawMs = performance.now() - started;
    this.map.getContainer().dataset.drawn = this.drawnAs;
    this.map.getContainer().dataset.drawSequence = request;
  }

  drawCells(rows, cell) {
    const highest = Math.max(1, ...rows.map((row) => row.incidents));
    const layers = [];
    for (const row of rows) {
      const [west, south] = row.key.split(",").map(Number);
      const bounds = [[south, west], [south + cell, west + cell]];
      const strength = Math.log1p(row.incidents) / Math.log1p(highest);
      layers.push(L.rectangle(bounds, {
        className: "grid-cell", weight: 0.5, fillOpacity: 0.15 + 0.6 * strength, interactive: false,
      }));
      const count = L.marker([south + cell / 2, west + cell / 2], {
        icon: L.divIcon({
          className: "grid-count", iconSize: [40, 20],
          html: `<span data-incidents="${row.incidents}">${COMPACT.format(row.incidents)}</span>`,
        }),
        title: `${row.incidents} incidents in this cell: zoom in`, alt: `${row.incidents} incidents`, keyboard: true,
      });
      count.on("click", () => this.map.fitBounds(bounds));
      layers.push(count);
    }
    this.drawn.clearLayers();
    for (const layer of layers) this.drawn.addLayer(layer);
    this.clusters = null;
    this.drawnIds = [];
    this.onDraw("cells", rows);
  }
}
