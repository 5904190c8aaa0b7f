"""Build the dashboard's country outlines: `make dashboard-assets` (needs PyPI; not run by `make run`).

Source: Natural Earth 1:110m admin-0 countries (public domain, https://www.naturalearthdata.com/), as
packaged in the geopandas 0.14.4 wheel on PyPI (`geopandas/datasets/naturalearth_lowres`, ISO codes
fixed by geopandas' own `naturalearth_creation.py`). The wheel is downloaded with pip and read with pyshp;
the result, `incidents/static/dashboard/countries.geojson` (coordinates rounded to 0.01°, each country's
ISO 3166-1 alpha-2 code from django-countries), is committed so that serving never needs the network.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import django
import shapefile  # pyshp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "build-only")
django.setup()
from django_countries import countries  # noqa: E402  (needs the settings)

WHEEL = "geopandas==0.14.4"
DATASET = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
OUTPUT = ROOT / "incidents" / "static" / "dashboard" / "countries.geojson"
SOURCE = (
    "Natural Earth 1:110m admin-0 countries (public domain), from the naturalearth_lowres dataset of the "
    "geopandas 0.14.4 wheel (BSD-3-Clause); built by scripts/build_outlines.py"
)


def rounded(ring: list) -> list:
    points = [[round(x, 2), round(y, 2)] for x, y in ring]
    return [point for index, point in enumerate(points) if index == 0 or point != points[index - 1]]


def alpha2(iso_a3: str, name: str) -> str | None:
    code = countries.alpha2(iso_a3) if iso_a3 and iso_a3 != "-99" else ""
    return code or countries.by_name(name) or None


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--quiet", "--dest", work]
        subprocess.run(command, check=True)
        wheel = zipfile.ZipFile(next(Path(work).glob("geopandas-*.whl")))
        files = {part: io.BytesIO(wheel.read(f"{DATASET}.{part}")) for part in ("shp", "shx", "dbf")}
    reader = shapefile.Reader(**files, encoding="latin-1")
    features = []
    for record, shape in zip(reader.iterRecords(), reader.iterShapes(), strict=True):
        geometry = shape.__geo_interface__
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        polygons = [[rounded(ring) for ring in polygon] for polygon in polygons]
        polygons = [polygon for polygon in polygons if len(polygon[0]) >= 4]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": alpha2(record["iso_a3"], record["name"]), "name": record["name"]},
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
        )
    collection = {"type": "FeatureCollection", "source": SOURCE, "features": features}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{len(features)} countries written to {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
