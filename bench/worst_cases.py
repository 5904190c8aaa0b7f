"""The costliest public requests we can construct, beside a plain list, on one database of synthetic
incidents served as deployed (gunicorn, DEBUG off, the default throttles and file cache).

    .venv/bin/python bench/worst_cases.py [--size 100000]

Each request is anonymous and sent four times (the first is cold: nothing of it is cached, and for `stats/`
each run uses filters no earlier run used, as an attacker would); the table gives the first and the median
of the other three, and the ratio to a plain list's median. It replaces the section between the
`worst-cases` markers in bench/RESULTS.md. The anonymous throttle (120/minute) is kept: the script waits
when it answers 429, as any client must.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the benchmark's database builder and server helpers)

PORT = 8823


def cases(nonce: int) -> list[tuple[str, str]]:
    """(what, path) for each request; `nonce` makes the stats filters new to the cache."""
    dated = f"occurred_after=2015-01-{1 + nonce % 28:02d}"
    return [
        ("plain list (the baseline)", "/api/v1/incidents/"),
        ("q: 8 one-letter terms (each a scan)", "/api/v1/incidents/?q=a+e+i+o+u+n+s+t"),
        ("q: 8 two-letter terms", "/api/v1/incidents/?q=sy+nt+he+ti+in+ci+de+en"),
        ("q: 8 common three-letter terms", "/api/v1/incidents/?q=syn+the+tic+inc+ide+nt+sei+zur"),
        ("radius 20,000 km (the whole Earth)", "/api/v1/incidents/?lat=0&lon=0&radius_km=20000"),
        ("radius 20,000 km from the pole", "/api/v1/incidents/?lat=90&lon=0&radius_km=20000"),
        ("bbox of the whole Earth", "/api/v1/incidents/?bbox=-180,-90,180,90"),
        ("ordering=weapons_total, offset 90,000", "/api/v1/incidents/?ordering=weapons_total&offset=90000"),
        (
            "ordering=reported_on,-country, offset 90,000",
            "/api/v1/incidents/?ordering=reported_on,-country&offset=90000",
        ),
        ("ordering=-updated_at, limit 1000", "/api/v1/incidents/?ordering=-updated_at&limit=1000"),
        ("limit 1000, offset 99,000", "/api/v1/incidents/?limit=1000&offset=99000"),
        (
            "q + radius + ordering + offset",
            "/api/v1/incidents/?q=a+e&lat=55&lon=13&radius_km=5000&ordering=-weapons_total&offset=5000",
        ),
        (
            "8 relation filters at once",
            "/api/v1/incidents/?weapon_category=rifle,pistol&suspected_origin=RU,UA&actor_kind=unknown,individual&source_type=news&source_reliability=A,B,C,D,E,F&min_credibility=6&tag=synthetic&publisher=Nobody",
        ),
        ("stats by weapon_category, uncached", f"/api/v1/stats/?group_by=weapon_category&{dated}"),
        ("stats by suspected_origin, uncached", f"/api/v1/stats/?group_by=suspected_origin&{dated}"),
        ("stats by actor_kind, uncached", f"/api/v1/stats/?group_by=actor_kind&{dated}"),
        ("stats by month with 8 q terms, uncached", f"/api/v1/stats/?group_by=month&q=a+e+i+o+u+n+s+t&{dated}"),
        ("countries with 8 q terms, uncached", f"/api/v1/countries/?q=a+e+i+o+u+n+s+t&{dated}"),
        ("CSV export at the anonymous cap", "/api/v1/incidents/?format=csv&country=DK,XK&occurred_after=2019-01-01"),
        ("GeoJSON at the anonymous cap", "/api/v1/incidents/?format=geojson&country=DK,XK&occurred_after=2019-01-01"),
        ("deleted/ since 1900", "/api/v1/incidents/deleted/?since=1900-01-01T00:00:00Z"),
    ]


def timed_get(url: str) -> tuple[float, int]:
    while True:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=300) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            error.read()
            if error.code == 429:  # the throttle: wait as it says, then ask again
                time.sleep(float(error.headers.get("Retry-After", "1")))
                continue
            status = error.code
        return (time.perf_counter() - started) * 1000, status


def serve(database: Path, work: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "CACHE_URL": f"disk://{work}/cache",
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("ANON_THROTTLE_RATE", None)
    env.pop("USER_THROTTLE_RATE", None)
    command = [str(run.BIN / "gunicorn"), "tracker.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"]
    server = subprocess.Popen([*command, "--log-level", "error"], cwd=run.ROOT, env=env)
    run.wait_for(f"http://127.0.0.1:{PORT}/healthz")
    return server


def measure(size: int) -> str:
    database = run.build(size)
    work = Path(tempfile.mkdtemp(prefix="bench-worst-"))
    server = serve(database, work)
    rows = []
    try:
        for what, path in cases(nonce=int(time.time())):
            url = f"http://127.0.0.1:{PORT}{path}"
            first, status = timed_get(url)
            again = [timed_get(url)[0] for _ in range(3)]
            rows.append((what, path, status, first, statistics.median(again)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    baseline = rows[0][4]
    lines = [
        f"### The costliest public requests at {size:,} incidents",
        "",
        "Anonymous, served as deployed (gunicorn with 2 workers, DEBUG off, default throttles and file cache); "
        "`bench/worst_cases.py`. First request cold; then the median of three.",
        "",
        "| request | status | first ms | median ms | × plain list |",
        "|---|---|---|---|---|",
    ]
    for what, path, status, first, median in rows:
        lines.append(f"| {what} (`{path}`) | {status} | {first:.0f} | {median:.1f} | {median / baseline:.1f}× |")
    return "\n".join(lines)


def write_section(section: str) -> None:
    run.write_marked_section("worst-cases", section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    section = measure(args.size)
    print(section)
    write_section(section)


if __name__ == "__main__":
    main()
