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

let incidentMap = null;

function placeText(record) {
  return [record.place, record.country_name].filter(Boolean).join(", ");
}

const PRECISION_SHOWN = { exact: "exact point", locality: "the place", region: "region only", country: "country only" };

// The fallback to the map for keyboards and screen readers: what the map draws, as a table.
function mapDrawn(kind, items) {
  const panel = document.getElementById("map-panel");
  mapError(null);
  const head = panel.querySelector("thead tr");
  panel.dataset.drawn = kind;
  if (kind === "incidents") {
    head.replaceChildren(...["Incident", "Date", "Place", "Located to", "Latitude", "Longitude"]
      .map((name) => element("th", { scope: "col" }, name)));
    fillTable(panel, items.map((f) => [f.properties.title, dateText(f.properties.occurred_on, f.properties.date_precision),
      placeText(f.properties), PRECISION_SHOWN[f.properties.geo_precision] || "—",
      f.geometry.coordinates[1], f.geometry.coordinates[0]]));
  } else {
    head.replaceChildren(...["Grid cell (south-west corner)", "Incidents", "Weapons"]
      .map((name) => element("th", { scope: "col" }, name)));
    fillTable(panel, items.map((row) => [row.key, row.incidents, row.weapons]));
  }
}

function mapCaption(text) {
  setCaption(document.getElementById("map-panel"), text);
}

// A redraw that failed; cleared by the next one that succeeds.
function mapError(message) {
  const shown = document.getElementById("map-error");
  shown.hidden = !message;
  shown.textContent = message ? `The map could not be redrawn: ${message}. Move it to try again.` : "";
}

// The map draws on its own: a map that cannot be drawn says why and leaves the other panels be.
async function drawMap(current) {
  let shown;
  try {
    if (!incidentMap) {
      incidentMap = new IncidentMap(document.getElementById("map"), {
        api: API, outlines, tileUrl: body.dataset.tileUrl, tileAttribution: body.dataset.tileAttribution,
        pointsMax: Number(body.dataset.pointsMax), load: getJSON, describe: incidentItem, onDraw: mapDrawn,
        onError: mapError,
      });
      window.incidentMap = incidentMap; // for scripts embedding the page, and for the browser tests
    }
    shown = await incidentMap.show(currentFilters());
  } catch (error) {
    if (current === rendering) mapCaption(`Not mapped: ${error.message}`);
    return;
  }
  if (!shown || current !== rendering) return;
  const areas = "Pins are places; a shaded ring is a region, a shaded country an incident known only to its country.";
  const unlocated = shown.unlocated ? `; ${shown.unlocated} without coordinates are not on the map` : "";
  const drawing = shown.mode === "all" ? "" : " Zoomed out, the map counts incidents per grid cell; zoom in to see them.";
  mapCaption(`${shown.located} incidents with coordinates${unlocated}. ${areas}${drawing}`);
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

// Round ticks (1, 2 or 5 times a power of ten) from 0 to at least `highest`, about four of them.
function ticksUpTo(highest) {
  const rough = Math.max(1, highest) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough && Number.isInteger(s)) || Math.ceil(rough);
  const ticks = [];
  for (let tick = 0; tick < highest + step; tick += step) ticks.push(tick);
  return ticks;
}

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// Month labels at a readable density: every 1, 2, 3, 6, 12… months, at most about ten; the year written
// on January and on the first label (every 12 months or more: the year alone).
function monthLabels(months) {
  const every = [1, 2, 3, 6, 12, 24, 60, 120].find((n) => months.length / n <= 10) || 240;
  let first = true;
  return months.map((month) => {
    const [year, number] = month.split("-").map(Number);
    if ((year * 12 + number - 1) % every !== 0) return null;
    const name = MONTH_NAMES[number - 1];
    const text = every >= 12 ? String(year) : number === 1 || first ? `${name} ${year}` : name;
    first = false;
    return text;
  });
}

const tooltip = document.getElementById("timeline-tooltip");

function showTooltip(bar) {
  tooltip.textContent = bar.getAttribute("aria-label");
  tooltip.hidden = false;
}

function drawTimeline(stats) {
  const panel = document.getElementById("timeline-panel");
  const svg = document.getElementById("timeline");
  const counts = new Map(stats.results.map((row) => [row.key, row]));
  const months = stats.results.length ? monthsBetween(stats.results[0].key, stats.results.at(-1).key) : [];
  const ticks = ticksUpTo(Math.max(1, ...stats.results.map((row) => row.incidents)));
  const top = ticks.at(-1);
  const [left, right, base, height] = [44, 790, 190, 170];
  const width = (right - left) / Math.max(1, months.length);
  const axis = ticks.flatMap((tick) => {
    const y = (base - (tick / top) * height).toFixed(1);
    return [element("line", { x1: left, x2: right, y1: y, y2: y, class: "gridline" }, null, SVG),
      element("text", { x: left - 6, y: Number(y) + 4, class: "axis", "text-anchor": "end" }, String(tick), SVG)];
  });
  const bars = months.map((month, index) => {
    const row = counts.get(month);
    const incidents = row?.incidents || 0;
    const barHeight = (incidents / top) * height;
    const label = `${month}: ${incidents} incident${incidents === 1 ? "" : "s"}, ${row?.weapons || 0} weapons`;
    const bar = element("rect", { x: (left + index * width).toFixed(2), y: (base - barHeight).toFixed(2),
      width: Math.max(1, width - 1).toFixed(2), height: Math.max(incidents ? 1 : 0, barHeight).toFixed(2),
      class: "bar", "data-month": month, "data-incidents": incidents, tabindex: incidents ? 0 : -1,
      role: "img", "aria-label": label }, null, SVG);
    bar.append(element("title", {}, label, SVG));
    for (const type of ["focus", "mouseenter"]) bar.addEventListener(type, () => showTooltip(bar));
    for (const type of ["blur", "mouseleave"]) bar.addEventListener(type, () => { tooltip.hidden = true; });
    return bar;
  });
  const labels = monthLabels(months).flatMap((text, index) => text === null ? [] : [
    element("text", { x: (left + (index + 0.5) * width).toFixed(1), y: 208, class: "axis month-label",
      "text-anchor": "middle" }, text, SVG)]);
  const title = svg.querySelector("title");
  svg.replaceChildren(title, ...axis, ...bars, ...labels);
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

const QUANTITY_SHOWN = { exact: "", approximate: "about ", at_least: "at least " };

function weaponsText(weapons) {
  return weapons.map((weapon) => {
    const quantity = weapon.quantity === null ? "unknown number of" : `${QUANTITY_SHOWN[weapon.quantity_precision] || ""}${weapon.quantity}`;
    return `${quantity} ${weapon.category}${weapon.description ? ` (${weapon.description})` : ""}`;
  }).join("; ");
}

function incidentItem(incident) {
  const item = element("li", { "data-id": incident.id });
  const heading = element("h3");
  heading.append(element("a", { href: `${API}incidents/${incident.id}/` }, incident.title));
  const located = incident.geo_precision ? ` (located to ${PRECISION_SHOWN[incident.geo_precision]})` : "";
  item.append(heading, element("p", { class: "meta" },
    `${dateText(incident.occurred_on, incident.date_precision)} · ${placeText(incident)}${located} · ${incident.verification}`));
  if (incident.weapons?.length) item.append(element("p", { class: "meta weapons" }, `Weapons: ${weaponsText(incident.weapons)}`));
  const sources = element("ul", { class: "sources", "aria-label": `Sources of incident ${incident.id}` });
  for (const source of incident.sources) {
    const entry = element("li");
    entry.append(element("a", { href: source.url, rel: "noopener", target: "_blank" },
      [source.publisher, source.title].filter(Boolean).join(": ")));
    if (source.published_on) entry.append(` (${source.published_on})`);
    const grade = `${source.reliability || ""}${source.credibility || ""}`;
    entry.append(` · ${source.stance} · ${grade ? `grade ${grade}` : "not graded"}`);
    if (source.excerpt) entry.append(excerptOf(source));
    sources.append(entry);
  }
  item.append(sources);
  return item;
}

function listIncidents(page, append) {
  const list = document.querySelector(".incident-list");
  const items = page.results.map(incidentItem);
  if (append) list.append(...items); else list.replaceChildren(...items);
  nextPage = page.next;
  document.getElementById("more").hidden = !nextPage;
}

let rendering = 0; // each render of new filters; answers for older filters are dropped

document.getElementById("more").addEventListener("click", async () => {
  const current = rendering;
  const page = await getJSON(nextPage);
  if (current === rendering) listIncidents(page, true);
});

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
  const current = ++rendering;
  body.dataset.ready = "";
  status.textContent = "Loading…";
  updateLinks();
  const fields = "id,title,occurred_on,date_precision,geo_precision,place,country_name,verification,weapons,sources";
  try {
    const [months, byCountry, byCategory, incidents] = await Promise.all([
      getJSON(apiUrl("stats/", { group_by: "month" })),
      getJSON(apiUrl("stats/", { group_by: "country" })),
      getJSON(apiUrl("stats/", { group_by: "weapon_category" })),
      getJSON(apiUrl("incidents/", { fields, limit: 20 })),
      drawMap(current),
    ]);
    if (current !== rendering) return;
    drawTimeline(months);
    drawBars("country-panel", byCountry);
    drawBars("category-panel", byCategory);
    listIncidents(incidents, false);
    status.textContent = `${months.total.incidents} incidents match these filters.`;
    window.dashboardReadyAt = performance.now(); // milliseconds since navigation, for the measurements
    body.dataset.ready = "true";
  } catch (error) {
    if (current !== rendering) return;
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
