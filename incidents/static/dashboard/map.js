// The dashboard's map (Leaflet + Leaflet.markercluster, vendored). With few enough located incidents it
// clusters all of them; with more, it draws `stats/?group_by=grid` cells for the view and zoom, and the
// view's own incidents once few enough are in it. Precision is drawn as it is known: exact and locality
// points as pins; region-level as a shaded ring; country-level as the shaded country, never a pin on its
// capital.
"use strict";

// At most this many incidents (in all, or in the view) are fetched and drawn one by one: about 400 KB of
// GeoJSON, drawn in about 0.1 s (bench/RESULTS.md); more are counted in grid cells.
const POINTS_MAX = 2000;
// Each size tiles a level of the grid rollup (whole multiples of 1, 0.1 or 0.01 degrees), so a map reads few rows.
const CELL_SIZES = [10, 5, 3, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01];
const CELLS_ACROSS = 20; // about this many grid cells across the map: room for each cell's count
const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const REGION_RADIUS_METRES = 75000; // "somewhere in this region": a ring about an admin1 region's size
const POINT_FIELDS = "id,title,occurred_on,date_precision,geo_precision,place,country,country_name";
const POPUP_FIELDS = "id,title,occurred_on,date_precision,geo_precision,place,country_name,verification,weapons,sources";
const AREA_POPUP_MAX = 20;
const TRACE_SHOWN = 5; // trace candidates and other incidents a popup lists (the API gives up to 200)
const MOVE_SETTLE_MS = 150; // a redraw waits until the map has stopped moving this long
const POPUP = { minWidth: 280, maxWidth: 360, maxHeight: 400 };

// Enter or Space on a focused map shape does what a click does.
function onActivate(element, action) {
  element.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      action();
    }
  });
}

class IncidentMap {
  // `api` the API root; `load(url, accept)` fetches JSON; `describe(record)` makes an incident's popup block;
  // `onDraw(kind, items)` hears what was drawn: "incidents" (features) or "cells" (grid rows); `onError(message)`
  // hears a redraw that failed; `pointsMax` caps the incidents fetched at once (the site's anonymous export cap).
  constructor(container, { api, outlines, tileUrl, tileAttribution, load, describe, onDraw, onError, pointsMax }) {
    Object.assign(this, { api, load, describe, onDraw, onError });
    this.pointsMax = Number.isFinite(pointsMax) ? Math.min(POINTS_MAX, Math.max(0, pointsMax)) : POINTS_MAX;
    this.map = trackerBasemap(container, { outlines, tileUrl, tileAttribution });
    this.countryShapes = new Map(outlines.features.map((feature) => [feature.properties.code, feature]));
    this.drawn = L.layerGroup().addTo(this.map);
    this.filters = new URLSearchParams();
    this.generation = 0; // new filters: answers for older ones are dropped
    this.viewRequest = 0; // a new view: answers for older views are dropped
    this.mode = null; // "all" incidents drawn at once, or what the "view" holds; null while filters load
    let settle = null;
    this.settling = false; // the last move's redraw is pending or under way
    this.moves = 0;
    this.framing = false; // show() frames the map and draws the view itself
    this.map.on("moveend", () => {
      if (this.framing) return;
      clearTimeout(settle);
      const move = ++this.moves;
      this.settling = true;
      settle = setTimeout(() => this.viewChanged().finally(() => {
        if (move === this.moves) this.settling = false;
      }), MOVE_SETTLE_MS);
    });
    this.addShowAllControl();
  }

  url(path, extra) {
    const params = new URLSearchParams(this.filters);
    for (const [name, value] of Object.entries(extra)) params.set(name, value);
    return `${this.api}${path}?${params}`;
  }

  // Draw the incidents the filters select; answers {located, unlocated, mode}, or null when newer filters came.
  async show(filters) {
    this.filters = filters;
    const generation = ++this.generation;
    this.mode = null;
    this.fetched = null;
    const grid = await this.load(this.url("stats/", { group_by: "grid", cell: 2 }));
    if (generation !== this.generation) return null;
    const located = grid.total.incidents - grid.total.unlocated;
    this.everything = this.cellsBounds(grid.results, 2);
    if (located <= this.pointsMax) {
      const collection = await this.load(this.url("incidents/", { format: "geojson", fields: POINT_FIELDS }),
        "application/geo+json");
      if (generation !== this.generation) return null;
      this.drawIncidents(collection.features);
      this.fitMost(collection.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0], 1]));
      this.mode = "all";
    } else {
      this.fitMost(grid.results.map((row) => [row.center[1], row.center[0], row.incidents]));
      this.mode = "view";
      await this.drawView();
    }
    return { located, unlocated: grid.total.unlocated, mode: this.mode };
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
    this.framing = true;
    if (frame) this.map.fitBounds(frame.pad(0.05), { maxZoom: 9, animate: false });
    else this.map.fitBounds([[34, -12], [71, 42]], { animate: false }); // Europe when there is nothing
    this.framing = false;
  }

  cellsBounds(rows, cell) {
    return rows.reduce((bounds, row) => bounds.extend(this.cellBounds(row, cell)), L.latLngBounds([]));
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
        if (this.everything?.isValid()) this.map.fitBounds(this.everything.pad(0.05), { maxZoom: 9 });
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
    if (this.mode !== "view") {
      this.everything = L.latLngBounds(features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    }
    this.drawn.clearLayers();
    for (const area of areas) this.drawn.addLayer(area);
    this.drawn.addLayer(clusters);
    this.clusters = clusters;
    this.areas = areas;
    this.drawnIds = features.map((feature) => feature.id).sort((a, b) => a - b);
    this.onDraw("incidents", features);
  }

  // A pin for a point known to the place; a shaded ring for one known only to its region (or to a country
  // too small for the 1:110m outlines).
  mark(record, lat, lon) {
    const label = `${record.title} (${dateText(record.occurred_on, record.date_precision)})`;
    const area = record.geo_precision === "region" || record.geo_precision === "country";
    const layer = area
      ? L.circle([lat, lon], { radius: REGION_RADIUS_METRES, className: `incident-area precision-${record.geo_precision}` })
      : L.marker([lat, lon], {
        icon: L.divIcon({ className: `incident-pin precision-${record.geo_precision || "exact"}`, iconSize: [14, 14] }),
        title: label, alt: label, keyboard: true,
      });
    layer.options.incidentId = record.id;
    layer.on("add", () => {
      const element = layer.getElement();
      element?.setAttribute("data-id", record.id);
      if (area) this.focusable(element, `${label}: located only to its ${record.geo_precision}`, () => layer.openPopup());
    });
    this.lazyPopup(layer, `incidents/${record.id}/`, {});
    return layer;
  }

  // An SVG shape that takes the keyboard's focus and opens its popup (`open`) like a click.
  focusable(element, label, open) {
    if (!element || element.hasAttribute("tabindex")) return;
    element.setAttribute("tabindex", "0");
    element.setAttribute("role", "button");
    element.setAttribute("aria-label", label);
    onActivate(element, open);
  }

  // Incidents known only to their country: the country shaded, one popup listing them.
  countryArea(country, incidents) {
    const area = L.geoJSON(this.countryShapes.get(country), {
      style: { className: "incident-area precision-country" },
    });
    area.incidentIds = incidents.map((incident) => incident.id);
    const name = incidents[0].country_name || country;
    const label = `${incidents.length} incident${incidents.length === 1 ? "" : "s"} located only to ${name}`;
    area.on("add", () => area.eachLayer((shape) => {
      const element = shape.getElement();
      element?.setAttribute("data-country", country);
      element?.setAttribute("data-incidents", incidents.length);
      this.focusable(element, label, () => area.openPopup(shape.getCenter())); // the popup is the group's
    }));
    area.bindTooltip(Object.assign(document.createElement("span"), { textContent: label }), { sticky: true });
    const list = { country, geo_precision: "country", limit: AREA_POPUP_MAX, ordering: "-occurred_on" };
    this.lazyPopup(area, "incidents/", list, `${label}, not to a place in it:`);
    return area;
  }

  // A popup whose content is fetched each time it opens: an incident (`incidents/{id}/`) or a list
  // (`incidents/`, with the map's filters). Set once loaded, so that the popup is sized for it.
  lazyPopup(layer, path, extra, heading = null) {
    layer.bindPopup("Loading…", POPUP);
    layer.on("popupopen", async (event) => {
      const popup = event.popup;
      popup.setContent("Loading…");
      popup.setContent(await this.popupContent(path, extra, heading));
    });
  }

  async popupContent(path, extra, heading) {
    const box = document.createElement("div");
    box.className = "map-popup";
    const params = path === "incidents/" ? { ...Object.fromEntries(this.filters), ...extra } : extra;
    try {
      const answer = await this.load(`${this.api}${path}?${new URLSearchParams({ ...params, fields: POPUP_FIELDS })}`);
      const records = answer.results || [answer];
      if (heading) box.append(Object.assign(document.createElement("p"), { textContent: heading }));
      if (answer.next) {
        const more = document.createElement("p");
        more.append(`The latest ${records.length} of ${answer.count}; `, Object.assign(document.createElement("a"), {
          href: `${this.api}${path}?${new URLSearchParams(params)}`, textContent: "all of them in the API",
        }), ".");
        box.append(more);
      }
      const list = document.createElement("ul");
      list.className = "popup-incidents";
      list.append(...records.map((record) => this.describe(record)));
      box.append(list);
      if (!answer.results) box.append(await this.traceSection(`${this.api}${path}trace/`));
    } catch (error) {
      box.textContent = `Could not load: ${error.message}`;
    }
    return box;
  }

  // An incident's trace (API.md "Tracing"): the transfers its weapons may have left, best first, and the
  // other incidents with a weapon of the same serial.
  async traceSection(url) {
    const section = document.createElement("div");
    section.className = "popup-trace";
    section.append(Object.assign(document.createElement("h4"), { textContent: "Trace" }));
    let trace;
    try {
      trace = await this.load(url);
    } catch (error) { // the incident's details above stay
      section.append(Object.assign(document.createElement("p"), { textContent: `Could not load the trace: ${error.message}` }));
      return section;
    }
    const items = [
      ...trace.candidates.slice(0, TRACE_SHOWN).map((candidate) => {
        const { supplier, recipient, year } = candidate.transfer;
        const text = `Weapon ${candidate.weapon + 1}: ${year} ${supplier}→${recipient} transfer (${candidate.match.replaceAll("_", " ")}, score ${candidate.score}) — ${candidate.reasons.join("; ")}`;
        return Object.assign(document.createElement("li"), { className: "trace-candidate", textContent: text });
      }),
      ...trace.recovered_elsewhere.slice(0, TRACE_SHOWN).map(({ incident, weapon, serial }) => {
        const text = `Serial ${serial} also in: ${incident.title}, ${incident.country}, ${incident.occurred_on} (its weapon ${weapon + 1})`;
        return Object.assign(document.createElement("li"), { className: "trace-recovered", textContent: text });
      }),
    ];
    const hidden = Math.max(0, trace.candidates.length - TRACE_SHOWN) + Math.max(0, trace.recovered_elsewhere.length - TRACE_SHOWN);
    if (!items.length) {
      section.append(Object.assign(document.createElement("p"), { textContent: "No transfer or other incident linked by serials, lots or markings." }));
      return section;
    }
    const list = document.createElement("ul");
    list.append(...items);
    section.append(list);
    if (hidden) section.append(Object.assign(document.createElement("p"), { textContent: `${hidden} more in the API's trace.` }));
    return section;
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

  // After a pan or zoom. A view in another copy of the world is moved to this one (the data lies here).
  async viewChanged() {
    if (this.mode !== "view") return;
    const centre = this.map.getCenter();
    if (Math.abs(centre.lng) > 180) {
      this.map.setView(this.map.wrapLatLng(centre), this.map.getZoom(), { animate: false }); // its moveend redraws
      return;
    }
    await this.drawView();
  }

  // Whether what is drawn already covers the view: the view's incidents inside the box they were fetched for
  // (at any zoom), or cells of the size this zoom wants over the box they were counted for, as long as the
  // view holds too many incidents to draw them one by one.
  covered(cell) {
    if (!this.fetched) return false;
    const [west, south, east, north] = this.fetched.bbox.split(",").map(Number);
    const view = this.map.getBounds();
    if (!L.latLngBounds([south, west], [north, east]).contains(view)) return false;
    if (this.fetched.drawnAs === "incidents") return true;
    const inView = this.fetched.rows.filter((row) => view.intersects(this.cellBounds(row, this.fetched.cell)));
    return this.fetched.cell === cell && inView.reduce((sum, row) => sum + row.incidents, 0) > this.pointsMax;
  }

  cellBounds(row, cell) {
    const [west, south] = row.key.split(",").map(Number);
    return L.latLngBounds([south, west], [south + cell, west + cell]);
  }

  // Draw the view: its grid cells, or its incidents once few enough are in it. A failure is reported (unless
  // a newer view or newer filters made it moot) and the next move tries again.
  async drawView() {
    const generation = this.generation;
    const request = ++this.viewRequest; // whatever an older request brings is now stale
    const cell = this.cellSize();
    if (this.covered(cell)) return;
    const stale = () => generation !== this.generation || request !== this.viewRequest;
    const bbox = this.gridBox(cell);
    try {
      const grid = await this.load(this.url("stats/", { group_by: "grid", cell, bbox }));
      if (stale()) return;
      const inView = grid.results.reduce((sum, row) => sum + row.incidents, 0);
      if (inView <= this.pointsMax) {
        const collection = await this.load(this.url("incidents/", { format: "geojson", fields: POINT_FIELDS, bbox }),
          "application/geo+json");
        if (stale()) return;
        this.drawIncidents(collection.features);
        this.drawnAs = "incidents";
      } else {
        this.drawCells(grid.results, cell);
        this.drawnAs = "cells";
      }
      this.fetched = { bbox, cell, drawnAs: this.drawnAs, rows: grid.results };
    } catch (error) {
      if (!stale()) this.onError(error.message);
      return;
    }
    this.map.getContainer().dataset.drawn = this.drawnAs;
    this.map.getContainer().dataset.drawSequence = request;
  }

  drawCells(rows, cell) {
    const highest = Math.max(1, ...rows.map((row) => row.incidents));
    const layers = [];
    for (const row of rows) {
      const bounds = this.cellBounds(row, cell);
      const [south, west] = [bounds.getSouth(), bounds.getWest()];
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
      const zoomIn = () => this.map.fitBounds(bounds);
      count.on("click", zoomIn);
      count.on("add", () => onActivate(count.getElement(), zoomIn));
      layers.push(count);
    }
    this.drawn.clearLayers();
    for (const layer of layers) this.drawn.addLayer(layer);
    this.clusters = null;
    this.areas = [];
    this.drawnIds = [];
    this.onDraw("cells", rows);
  }
}
