"""The dashboard's map at scale, in headless Chromium: `make bench-dashboard` (BENCH_SIZES, default
200000,1000000).

For each size, the benchmark's synthetic SQLite file (built once by bench/run.py's builder) is served as
deployed (gunicorn with 2 workers of 4 threads, DEBUG off, throttles counting in the disk cache, static files from
collectstatic), and the page is opened three times: the time from navigation until every panel is drawn
(`body[data-ready]`). Then the same ten pans and zooms as tests/test_map_browser.py, each timed from the
move until the map has drawn the new view (grid cells, or the view's incidents once few enough are in
it), and a last zoom to street level. The section between the `dashboard` markers of bench/RESULTS.md is
replaced. Not part of CI (the 200k case runs there as a test, its timings printed, not asserted).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # noqa: E402  (the benchmark's database builder and server helpers)

from tests.browsers import MOVES, redraw_ms, start_chromium, wait_for_dashboard  # noqa: E402

LOADS = 3


def measure(size: int) -> dict:
    database = run.build(size)
    with tempfile.TemporaryDirectory() as work:
        static = Path(work) / "static"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "STATIC_ROOT": str(static), "SECRET_KEY": "x"}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=run.ROOT, env=env, check=True
        )
        # A browser holds connections open: threads, as tests/live.py gives its browser tests (nginx in production)
        server = run.serve_tracker(
            database, Path(work), workers=2, STATIC_ROOT=str(static), GUNICORN_CMD_ARGS="--threads 4"
        )
        browser = start_chromium()
        try:
            loads = []
            for _ in range(LOADS):
                browser.get(f"http://127.0.0.1:{run.TRACKER_PORT}/dashboard/")
                loads.append(wait_for_dashboard(browser))
            drawn_as = browser.execute_script("return window.incidentMap.drawnAs")
            moves = [redraw_ms(browser, move) for move in MOVES]
            street = redraw_ms(browser, "map.setView(map.getCenter(), 14, {animate: false})")
        finally:
            browser.quit()
            server.terminate()
            server.wait()
    redraws = [move["ms"] for move in moves]
    return {
        "size": size,
        "first_load": loads[0],
        "loads": loads,
        "first_view": drawn_as,
        "redraw_median": statistics.median(redraws),
        "redraw_max": max(redraws),
        "redraws": moves,
        "street": street,
    }


def section(results: list[dict]) -> str:
    lines = [
        "## The dashboard's map at scale (headless Chromium)",
        "",
        f"`make bench-dashboard` on {platform.machine()}, {os.cpu_count()} cores: the synthetic SQLite file served "
        "as deployed (gunicorn, 2 workers of 4 threads, throttles on), the page opened 3 times, then 10 pans and zooms "
        "(tests/browsers.py `MOVES`), each timed from the move until the map has drawn the new view. Zoomed out, "
        "the map draws `stats/?group_by=grid` cells for the view (from the grid rollup); once at most 2,000 "
        "incidents are in view it fetches their GeoJSON for that box and clusters them. Goals (issue #23): "
        "interactive in under 3 s at 1M, a redraw under 500 ms.",
        "",
        "Read with care: a redraw includes the map's own wait for the move to settle (150 ms, so that a drag "
        "or a run of key presses asks once); a move inside the box already drawn asks nothing. Later loads "
        "are answered mostly from the browser's HTTP cache (`max-age=60`, then ETag revalidation). The "
        "throttles count every request at a rate set above what one page asks; at the default anonymous "
        "rate (120/minute) a page load costs 9 API requests and a redraw 1 or 2. The synthetic data is dense "
        "around a few cities, so at zoom 8.5 a view may still hold more than 2,000 incidents and be drawn "
        "as cells.",
        "",
        "| incidents | first load (ms) | later loads (ms) | first view drawn as | redraw median (ms) | redraw max (ms) "
        "| zoom to street level (ms, drawn as) |",
        "|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in results:
        later = ", ".join(f"{ms:.0f}" for ms in r["loads"][1:])
        lines.append(
            f"| {r['size']:,} | {r['first_load']:.0f} | {later} | {r['first_view']} | {r['redraw_median']:.0f} "
            f"| {r['redraw_max']:.0f} | {r['street']['ms']:.0f}, {r['street']['drawn']} |"
        )
    lines += ["", "Against the goals (one run):", ""]
    for r in results:
        load = "met" if r["first_load"] < 3000 else "missed"
        slow = [m for m in r["redraws"] if m["ms"] >= 500]
        redraw = "met by every redraw" if not slow else f"missed by {len(slow)} of {len(r['redraws'])} redraws"
        lines.append(f"- {r['size']:,}: interactive under 3 s {load}; redraw under 500 ms {redraw}.")
    lines += ["", "Each redraw (ms, what was drawn, zoom; * = no new data needed):", ""]
    for r in results:
        moves = "; ".join(
            f"{m['ms']:.0f} {m['drawn']} z{m['zoom']:g}{'' if m['fetched'] else ' *'}" for m in r["redraws"]
        )
        lines.append(f"- {r['size']:,}: {moves}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "200000,1000000")
    parser.add_argument("--build-only", type=int, metavar="SIZE", help="only build the database of SIZE incidents")
    args = parser.parse_args()
    if args.build_only:
        print(run.build(args.build_only))
        return
    results = [measure(int(size)) for size in args.sizes.split(",")]
    text = section(results)
    print(text)
    run.write_marked_section("dashboard", text)


if __name__ == "__main__":
    main()
