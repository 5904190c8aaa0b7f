// The incident form's map (admin): the pin is where the latitude and longitude fields put the incident.
// Clicking the map or dragging the pin writes those fields, so the save keeps them as typed by hand
// (geocode provider "manual"); typing in the fields moves the pin.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("location-map");
  const latitude = document.getElementById("id_latitude");
  const longitude = document.getElementById("id_longitude");
  if (!box || !latitude || !longitude) return;
  const outlines = await (await fetch(box.dataset.outlines)).json();
  const map = trackerBasemap(box, { outlines, tileUrl: box.dataset.tileUrl, tileAttribution: box.dataset.tileAttribution });
  let pin = null;

  const typed = () => {
    const point = [parseFloat(latitude.value), parseFloat(longitude.value)];
    return point.every(Number.isFinite) ? L.latLng(point) : null;
  };
  const write = (point) => {
    latitude.value = point.lat.toFixed(6);
    longitude.value = point.wrap().lng.toFixed(6);
  };
  const placePin = (point) => {
    if (!pin) {
      pin = L.marker(point, {
        draggable: true, keyboard: true, title: "The incident's coordinates: drag to move", alt: "Incident location",
        icon: L.divIcon({ className: "incident-pin", iconSize: [18, 18] }),
      }).addTo(map);
      pin.on("dragend", () => write(pin.getLatLng()));
    }
    pin.setLatLng(point);
  };

  const start = typed();
  if (start) {
    placePin(start);
    map.setView(start, 6);
  } else {
    map.setView([50, 15], 3);
  }
  map.on("click", (event) => {
    placePin(event.latlng);
    write(event.latlng);
  });
  for (const input of [latitude, longitude]) {
    input.addEventListener("change", () => {
      const point = typed();
      if (point) {
        placePin(point);
        map.panTo(point);
      }
    });
  }
  box.dataset.ready = "true";
  window.locationMap = map; // for the browser tests
});
