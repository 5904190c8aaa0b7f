// The incident form's map (admin): the pin is where the latitude and longitude fields put the incident.
// Clicking the map or dragging the pin writes those fields, so the save keeps them as typed by hand
// (geocode provider "manual"); typing in the fields moves the pin. Without the fields (an editor who may
// only view), the pin shows the stored coordinates and does not move.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("location-map");
  if (!box) return;
  const latitude = document.getElementById("id_latitude");
  const longitude = document.getElementById("id_longitude");
  const editable = Boolean(latitude && longitude);
  let outlines = { type: "FeatureCollection", features: [] };
  try {
    const response = await fetch(box.dataset.outlines);
    if (response.ok) outlines = await response.json();
  } catch {
    // the pin and the fields work without the outlines
  }
  const map = trackerBasemap(box, { outlines, tileUrl: box.dataset.tileUrl, tileAttribution: box.dataset.tileAttribution });
  let pin = null;

  const stored = () => {
    const values = editable ? [latitude.value, longitude.value] : [box.dataset.latitude, box.dataset.longitude];
    const point = values.map(parseFloat);
    return point.every(Number.isFinite) ? L.latLng(point) : null;
  };
  const write = (point) => {
    const wrapped = point.wrap(); // a click on another copy of the world means this one
    latitude.value = wrapped.lat.toFixed(6);
    longitude.value = wrapped.lng.toFixed(6);
    placePin(wrapped);
  };
  const placePin = (point) => {
    if (!pin) {
      pin = L.marker(point, {
        draggable: editable, keyboard: true, alt: "Incident location",
        title: editable ? "The incident's coordinates: drag to move" : "The incident's coordinates",
        icon: L.divIcon({ className: "incident-pin", iconSize: [18, 18] }),
      }).addTo(map);
      pin.on("dragend", () => write(pin.getLatLng()));
    }
    pin.setLatLng(point);
  };

  const start = stored();
  if (start) {
    placePin(start);
    map.setView(start, 6);
  } else {
    map.setView([50, 15], 3);
  }
  if (editable) {
    map.on("click", (event) => write(event.latlng));
    for (const input of [latitude, longitude]) {
      input.addEventListener("change", () => {
        const point = stored();
        if (point) {
          placePin(point);
          map.panTo(point);
        }
      });
    }
  }
  box.dataset.ready = "true";
  window.locationMap = map; // for the browser tests
});
