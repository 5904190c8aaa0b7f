// The reference dashboard: every panel is drawn from the public API with the filters in the page's URL.
// Plain DOM and SVG, no library; all text from the data is set with textContent (never as HTML).
"use strict";

const FILTERS = ["country", "occurred_after", "occurred_before", "verification", "weapon_category"];
const SVG = "http://www.w3.org/2000/svg";
const body = document.body;
const API = body.dataset.api;
const form = document.getElementById("filters");
let outlines = null;
let nextPage = null;

function currentFilters() {
  const given = new URLSearchParams(location.search);
  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    if (given.get(name)) filters.set(name, given.get(name));
  }
  return filters;
}

function apiUrl(path, extra = {}) {
  const params = currentFilters();
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return `${API}${path}?${params}`;
}

class ApiError extends Error {}

async function getJSON(url, accept = "application/json") {
  const response = await fetch(url, { headers: { Accept: accept } });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const messages = data && typeof data === "object"
      ? Object.entries(data).map(([field, text]) => `${field}: ${[].concat(text).join(" ")}`)
      : [`HTTP ${response.status}`];
    throw new ApiError(messages.join("; "));
  }
  return data;
}

function element(tag, attributes = {}, text = null, namespace = null) {
  const node = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function fillTable(panel, rows) {
  const tbody = panel.querySelector("tbody");
  tbody.replaceChildren(...rows.map((cells) => {
    const row = element("tr");
    cells.forEach((cell, index) => row.append(element(index === 0 ? "th" : "td", index === 0 ? { scope: "row" } : {}, String(cell))));
    return row;
  }));
}

function setCaption(panel, text) {
  panel.querySelector(".caption").textContent = text;
}

// --- Filters --------------------------------------------------------------------------------------

function addOptions(select, options) {
  for (const [value, label] of options) select.append(element("option", { value }, label));
}

async function loadFilterOptions() {
  const [countries, verification, categories] = await Promise.all([
    getJSON(`${API}countries/`),
    getJSON(`${API}stats/?group_by=verification`),
    getJSON(`${API}stats/?group_by=weapon_category`),
  ]);
  addOptions(form.country, countries.map((country) => [country.code, country.name]));
  addOptions(form.verification, verification.results.map((row) => [row.key, row.label]));
  addOptions(form.weapon_category, categories.results.filter((row) => row.key).map((row) => [row.key, row.label]));
}

function showFiltersInForm() {
  const filters = currentFilters();
  for (const name of FILTERS) form.elements[name].value = filters.get(name) || "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) filters.set(name, value);
  }
  history.pushState(null, "", filters.toString() ? `?${filters}` : location.pathname);
  render();
});
window.addEventListener("popstate", () => { showFiltersInForm(); render(); });

// --- Panels ---------------------------------------------------------------------------------------

function drawMap(collection) {
  const panel = document.getElementById("map-panel");
  const svg = document.getElementById("map");
  const features = collection.features.filter((feature) => feature.geometry);
  let [west, south, east, north] = [-12, 34, 42, 71]; // Europe when there is nothing to fit
  if (features.length) {
    const lons = features.map((f) => f.geometry.coordinates[0]);
    const lats = features.map((f) => f.geometry.coordinates[1]);
    const pad = 2;
    [west, east] = [Math.min(...lons) - pad, Math.max(...lons) + pad];
    [south, north] = [Math.min(...lats) - pad, Math.max(...lats) + pad];
  }
  // Equirectangular, longitudes shrunk by the cosine of the middle latitude; fitted to 800 × 560.
  const shrink = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = Math.min(800 / ((east - west) * shrink), 560 / (north - south));
  const x0 = 400 - ((west + east) / 2) * shrink * scale;
  const y0 = 280 + ((south + north) / 2) * scale;
  const project = ([lon, lat]) => [x0 + lon * shrink * scale, y0 - lat * scale];

  const shapes = outlines.features.map((country) => {
    const d = country.geometry.coordinates.flatMap((polygon) => polygon.map((ring) =>
      "M" + ring.map((point) => project(point).map((v) => v.toFixed(1)).join(",")).join("L") + "Z")).join("");
    const path = element("path", { d, class: "country" }, null, SVG);
    path.append(element("title", {}, country.properties.name, SVG));
    return path;
  });
  svg.querySelector(".outlines").replaceChildren(...shapes);
  svg.querySelector(".marks").replaceChildren(...features.map((feature) => {
    const [x, y] = project(feature.geometry.coordinates);
    const mark = element("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 5, class: "mark", "data-id": feature.id }, null, SVG);
    mark.append(element("title", {}, `${feature.properties.title} (${feature.properties.occurred_on})`, SVG));
    return mark;
  }));
  setCaption(panel, `${features.length} incidents with coordinates`);
  fillTable(panel, features.map((f) => [f.properties.title, f.properties.occurred_on,
    [f.properties.place, f.properties.country_name].filter(Boolean).join(", "),
    f.geometry.coordinates[1], f.geometry.coordinates[0]]));
}

function mapUnavailable(message) {
  const panel = document.getElementById("map-panel");
  document.querySelector("#map .marks").replaceChildren();
  setCaption(panel, `Not mapped: ${message}`);
  fillTable(panel, []);
}

function monthsBetween(first, last) {
  const months = [];
  let [year, month] = first.split("-").map(Number);
  const [endYear, endMonth] = last.split("-").map(Number);
  while (year < endYear || (year === endYear && month <= endMonth)) {
    months.push(`${year}-${String(month).padStart(2, "0")}`);
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return months;
}

function drawTimeline(stats) {
  const panel = document.getElementById("timeline-panel");
  const svg = document.getElementById("timeline");
  const counts = new Map(stats.results.map((row) => [row.key, row]));
  const months = stats.results.length ? monthsBetween(stats.results[0].key, stats.results.at(-1).key) : [];
  const highest = Math.max(1, ...stats.results.map((row) => row.incidents));
  const width = 760 / Math.max(1, months.length);
  const bars = months.map((month, index) => {
    const incidents = counts.get(month)?.incidents || 0;
    const height = (incidents / highest) * 170;
    const bar = element("rect", { x: (20 + index * width).toFixed(2), y: (190 - height).toFixed(2),
      width: Math.max(1, width - 1).toFixed(2), height: height.toFixed(2), class: "bar", "data-month": month,
      "data-incidents": incidents }, null, SVG);
    bar.append(element("title", {}, `${month}: ${incidents}`, SVG));
    return bar;
  });
  const labels = months.length ? [
    element("text", { x: 20, y: 210, class: "axis" }, months[0], SVG),
    element("text", { x: 780, y: 210, class: "axis", "text-anchor": "end" }, months.at(-1), SVG),
  ] : [];
  const title = svg.querySelector("title");
  svg.replaceChildren(title, ...bars, ...labels);
  const byMonth = stats.results.reduce((sum, row) => sum + row.incidents, 0);
  const imprecise = stats.total.imprecise || 0;
  panel.dataset.total = byMonth + imprecise;
  setCaption(panel, `${byMonth + imprecise} incidents` +
    (imprecise ? `; ${imprecise} dated only to a year are counted but not shown by month` : ""));
  fillTable(panel, [...stats.results.map((row) => [row.key, row.incidents, row.weapons]),
    ...(imprecise ? [["year only", imprecise, "—"]] : [])]);
}

function drawBars(panelId, stats) {
  const panel = document.getElementById(panelId);
  const highest = Math.max(1, ...stats.results.map((row) => row.incidents));
  panel.querySelector(".bars").replaceChildren(...stats.results.map((row) => {
    const line = element("div", { class: "bar-row", "data-key": row.key ?? "" });
    line.append(element("span", { class: "bar-label" }, row.label));
    const track = element("span", { class: "bar-track" });
    track.append(element("span", { class: "bar-fill", style: `width: ${(row.incidents / highest) * 100}%` }));
    line.append(track, element("span", { class: "bar-value" }, String(row.incidents)));
    return line;
  }));
  setCaption(panel, `${stats.total.incidents} incidents, ${stats.total.weapons} weapons`);
  fillTable(panel, stats.results.map((row) => [row.label, row.incidents, row.weapons]));
}

const LANGUAGES = new Intl.DisplayNames(["en"], { type: "language" });

function languageName(code) {
  try { return LANGUAGES.of(code); } catch { return code; }
}

// An excerpt in its source's language is a quote; in another language it is a translation, and says so.
function excerptOf(source) {
  const language = source.excerpt_language ? { lang: source.excerpt_language } : {};
  const translated = source.excerpt_language && source.language && source.excerpt_language !== source.language;
  const shown = element("span", { class: translated ? "excerpt translated" : "excerpt" });
  if (!translated) {
    shown.append(" ", element("q", language, source.excerpt));
    return shown;
  }
  shown.append(" ", element("span", language, source.excerpt), ` (translated from ${languageName(source.language)})`);
  return shown;
}

function incidentItem(incident) {
  const item = element("li", { "data-id": incident.id });
  const heading = element("h3");
  heading.append(element("a", { href: `${API}incidents/${incident.id}/` }, incident.title));
  const place = [incident.place, incident.country_name].filter(Boolean).join(", ");
  item.append(heading, element("p", { class: "meta" },
    `${incident.occurred_on} (${incident.date_precision}) · ${place} · ${incident.verification}`));
  const sources = element("ul", { class: "sources", "aria-label": `Sources of incident ${incident.id}` });
  for (const source of incident.sources) {
    const entry = element("li");
    entry.append(element("a", { href: source.url, rel: "noopener", target: "_blank" },
      `${source.publisher}: ${source.title}`));
    if (source.published_on) entry.append(` (${source.published_on})`);
    entry.append(` · ${source.stance} · grade ${source.reliability}${source.credibility}`);
    if (source.excerpt) entry.append(excerptOf(source));
    sources.append(entry);
  }
  item.append(sources);
  return item;
}

async function showIncidents(url, append) {
  const page = await getJSON(url);
  const list = document.querySelector(".incident-list");
  const items = page.results.map(incidentItem);
  if (append) list.append(...items); else list.replaceChildren(...items);
  nextPage = page.next;
  document.getElementById("more").hidden = !nextPage;
}

document.getElementById("more").addEventListener("click", () => showIncidents(nextPage, true));

// --- Sharing --------------------------------------------------------------------------------------

function updateLinks() {
  const filters = currentFilters().toString();
  const suffix = filters ? `?${filters}` : "";
  const code = document.getElementById("embed-code");
  if (code) {
    code.textContent = `<iframe src="${location.origin}${body.dataset.embedUrl}${suffix}" ` +
      `title="Arms-diversion incidents" width="100%" height="1800" style="border:0" loading="lazy"></iframe>`;
  }
  const full = document.querySelector("footer a[target=_top]");
  if (full) full.href = full.pathname + suffix;
}

document.getElementById("copy-embed")?.addEventListener("click", async (event) => {
  const text = document.getElementById("embed-code").textContent;
  try {
    await navigator.clipboard.writeText(text);
    event.target.textContent = "Copied";
  } catch {
    getSelection().selectAllChildren(document.getElementById("embed-code"));
    event.target.textContent = "Selected: press Ctrl+C to copy";
  }
});

// --- Drawing everything ---------------------------------------------------------------------------

const status = document.getElementById("status");

async function render() {
  body.dataset.ready = "";
  status.textContent = "Loading…";
  updateLinks();
  const fields = "id,title,occurred_on,date_precision,place,country_name,verification,sources";
  try {
    const [months, byCountry, byCategory] = await Promise.all([
      getJSON(apiUrl("stats/", { group_by: "month" })),
      getJSON(apiUrl("stats/", { group_by: "country" })),
      getJSON(apiUrl("stats/", { group_by: "weapon_category" })),
      showIncidents(apiUrl("incidents/", { fields, limit: 20 }), false),
    ]);
    drawTimeline(months);
    drawBars("country-panel", byCountry);
    drawBars("category-panel", byCategory);
    try {
      drawMap(await getJSON(apiUrl("incidents/", { format: "geojson" }), "application/geo+json"));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      mapUnavailable(error.message);
    }
    status.textContent = `${months.total.incidents} incidents match these filters.`;
    body.dataset.ready = "true";
  } catch (error) {
    status.textContent = `Could not load the data: ${error.message}`;
    body.dataset.ready = "error";
  }
}

async function start() {
  try {
    [outlines] = await Promise.all([getJSON(body.dataset.outlines), loadFilterOptions()]);
  } catch (error) {
    status.textContent = `Could not load the dashboard: ${error.message}`;
    return;
  }
  showFiltersInForm();
  await render();
}

start();
