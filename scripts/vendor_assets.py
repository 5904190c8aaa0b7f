"""Vendor the dashboard's map libraries (and axe-core, for the browser tests only) from the npm registry,
so that `make run` needs neither Node.js nor the network: `make dashboard-assets` runs this, and the files
it writes are committed.

Each package is pinned with its SHA-512 integrity as first vendored (the registry's `dist.integrity`): a
tarball that does not match it (a changed or corrupted download) is refused before anything is extracted.
`VENDORED.json` records the version, the tarball, its integrity, the licence and the SHA-256 of every file
taken, and tests/test_dashboard.py checks the committed files against it.
"""

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://registry.npmjs.org"

LEAFLET_INTEGRITY = "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
MARKERCLUSTER_INTEGRITY = (
    "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA=="
)
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="

# package, version, its integrity, where its files go (relative to ROOT), the files taken from the tarball
PACKAGES = [
    (
        "leaflet",
        "1.9.4",
        LEAFLET_INTEGRITY,
        "incidents/static/vendor/leaflet",
        [
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "LICENSE",
        ],
    ),
    (
        "leaflet.markercluster",
        "1.5.3",
        MARKERCLUSTER_INTEGRITY,
        "incidents/static/vendor/leaflet.markercluster",
        [
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
            "MIT-LICENCE.txt",
        ],
    ),
    # For the accessibility checks of the browser tests; never served.
    ("axe-core", "4.14.1", AXE_INTEGRITY, "tests/vendor/axe-core", ["axe.min.js", "LICENSE"]),
]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def checked_tarball(name: str, version: str, integrity: str) -> tuple[dict, bytes]:
    meta = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))
    tarball = fetch(meta["dist"]["tarball"])
    actual = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != integrity or meta["dist"]["integrity"] != integrity:
        sys.exit(
            f"{name}@{version}: the tarball is {actual}, the registry says {meta['dist']['integrity']}, "
            f"pinned is {integrity}"
        )
    return meta, tarball


def vendor(name: str, version: str, integrity: str, target: str, files: list[str]) -> dict:
    meta, tarball = checked_tarball(name, version, integrity)
    destination = ROOT / target
    destination.mkdir(parents=True, exist_ok=True)
    taken = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for file in files:
            data = archive.extractfile(f"package/{file}").read()
            path = destination / Path(file).relative_to("dist") if file.startswith("dist/") else destination / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            taken[str(path.relative_to(ROOT))] = hashlib.sha256(data).hexdigest()
    return {
        "name": name,
        "version": version,
        "licence": meta["license"],
        "tarball": meta["dist"]["tarball"],
        "integrity": meta["dist"]["integrity"],
        "files": taken,
    }


def main() -> None:
    record = [vendor(*package) for package in PACKAGES]
    out = ROOT / "incidents" / "static" / "vendor" / "VENDORED.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    for package in record:
        print(f"{package['name']}@{package['version']} ({package['licence']}): {len(package['files'])} files")


if __name__ == "__main__":
    main()
