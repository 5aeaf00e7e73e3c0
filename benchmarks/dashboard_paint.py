"""Figures for the dashboard: how soon a planner sees each page, in a real browser.

    .venv/bin/python -m benchmarks.dashboard_paint --employers 1000000 --engine postgresql

The store and snapshot are the service benchmark's (``benchmarks/service_latency.py``
builds them once under ``--work`` and both reuse them). ``calle serve`` runs in its own
process; Debian's Chromium, headless, signs in once and loads each page ``--loads`` times
(the browser's cache off, as the pages say no-store, and the service's read caches off, so
every load reads the store). For each page it reports the first contentful
paint (Chromium's own Paint Timing entry) and the server's share of it (time to the last
byte of the HTML). The baseline in the same run: the same list as JSON from
``GET /api/v1/rankings`` fetched by the same browser, which has no template, no styles and
no layout; the ratio says what the page costs over the data it shows. Target: first paint
of the ranked list ≤ 1 s on a 1M-workplace snapshot.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from benchmarks.service_latency import CALLE, _free_port, _server, prepare
from calle.store import open_store
from service.keys import create_key
from service.roles import Role

_TIMING = """
const done = arguments[arguments.length - 1];
const nav = performance.getEntriesByType('navigation')[0];
const report = (fcp) => done({fcp: fcp, response_end: nav.responseEnd, bytes: nav.transferSize});
// buffered: the paint happened before this script ran; give up after 5 s
new PerformanceObserver((list) => {
  const paint = list.getEntriesByName('first-contentful-paint')[0];
  if (paint) { report(paint.startTime); }
}).observe({type: 'paint', buffered: true});
setTimeout(() => report(null), 5000);
"""


@dataclass
class PageFigure:
    page: str
    path: str
    loads: int
    fcp_p50_ms: float
    fcp_max_ms: float
    server_p50_ms: float
    kilobytes: float


def _browser() -> WebDriver:
    options = Options()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-cache",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def _measure(driver: WebDriver, base: str, page: str, path: str, loads: int) -> PageFigure:
    paints, servers, sizes = [], [], []
    for _ in range(loads):
        driver.get(f"{base}{path}")
        timing = driver.execute_async_script(_TIMING)
        if timing["fcp"] is not None:
            paints.append(timing["fcp"])
        servers.append(timing["response_end"])
        sizes.append(timing["bytes"] or 0)
    if not paints:
        raise RuntimeError(f"{path}: the browser reported no first contentful paint")
    return PageFigure(
        page,
        path,
        loads,
        statistics.median(paints),
        max(paints),
        statistics.median(servers),
        statistics.median(sizes) / 1024,
    )


def pages(world: Path, employer_id: str) -> list[tuple[str, str]]:
    offices = sorted(
        line.split('"')[1]
        for line in (world / "offices.toml").read_text().splitlines()
        if line.startswith("[offices.")
    )
    return [
        ("ranked list, everyone", "/ui/rankings"),
        ("ranked list, one state", "/ui/rankings?state=11"),
        ("ranked list, auto parts in one state", "/ui/rankings?state=11&sector=3363"),
        ("ranked list, one office", f"/ui/rankings?office={offices[len(offices) // 2]}"),
        ("ranked list, one category", "/ui/rankings?category=subcontracting"),
        ("employer page", f"/ui/employers/{employer_id}"),
        ("plan builder", "/ui/plans"),
        ("inspection activity, 2 years", "/ui/activity"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--work", type=Path, default=Path(".calle/bench-service"))
    parser.add_argument("--loads", type=int, default=10, help="loads of each page")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    settings, world, _ = prepare(args.employers, args.years, args.engine, args.work, False)
    engine = open_store(settings)
    _, key = create_key(engine, Role.planner, "dashboard benchmark")
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "CALLE_HOME": str(settings.home),
        "CALLE_DATABASE_URL": settings.store_url,
        "CALLE_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "CALLE_OFFICES_FILE": str(world / "offices.toml"),
        "CALLE_LOG_LEVEL": "WARNING",
        # every load reads the store: the figures are of pages no one opened seconds before
        "CALLE_READ_CACHE_SECONDS": "0",
        "CALLE_KEY_CACHE_SECONDS": "0",
    }
    argv = [CALLE, "serve", "--port", str(port), "--workers", "2"]
    settings.home.mkdir(parents=True, exist_ok=True)
    with _server(argv, env, f"{base}/ready", settings.home / "dashboard-serve.log"):
        driver = _browser()
        try:
            driver.get(f"{base}/ui/sign-in")
            driver.find_element(By.ID, "key").send_keys(key)
            driver.find_element(By.ID, "sign-in").click()
            first = driver.find_element(By.CSS_SELECTOR, "#ranked tbody tr")
            employer_id = first.get_attribute("data-employer")
            figures = [
                _measure(driver, base, page, path, args.loads)
                for page, path in pages(world, employer_id)
            ]
            baseline = _api_baseline(driver, base, key, args.loads)
        finally:
            driver.quit()
    _report(figures, baseline, args.employers, args.engine)
    if args.json:
        args.json.write_text(
            json.dumps({"pages": [asdict(f) for f in figures], "api_ms": baseline}, indent=2)
        )


def _api_baseline(driver: WebDriver, base: str, key: str, loads: int) -> float:
    """Median time the browser takes to fetch the first page of the same list as JSON."""
    script = """
    const done = arguments[arguments.length - 1];
    const started = performance.now();
    fetch(arguments[0], {headers: {Authorization: 'Bearer ' + arguments[1]}, cache: 'no-store'})
      .then(r => r.text()).then(() => done(performance.now() - started));
    """
    times = [
        driver.execute_async_script(script, f"{base}/api/v1/rankings?limit=50", key)
        for _ in range(loads)
    ]
    return statistics.median(times)


def _report(figures: list[PageFigure], api_ms: float, employers: int, engine: str) -> None:
    print(f"Dashboard, {employers:,} workplaces on {engine}; median of each page's loads:")
    print()
    print("| page | first paint p50 ms | max ms | server (HTML) p50 ms | KB | vs JSON list |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in figures:
        print(
            f"| {f.page} | {f.fcp_p50_ms:.0f} | {f.fcp_max_ms:.0f} | {f.server_p50_ms:.0f} | "
            f"{f.kilobytes:.0f} | {f.fcp_p50_ms / api_ms:.1f}× |"
        )
    print()
    print(f"baseline: the first 50 rows as JSON from /api/v1/rankings, {api_ms:.0f} ms")
    ranked = [f for f in figures if f.path.startswith("/ui/rankings")]
    worst = max(f.fcp_max_ms for f in ranked)
    verdict = "met" if worst <= 1000 else "missed"
    print(f"target: ranked list first paint ≤ 1,000 ms: worst load {worst:.0f} ms ({verdict})")


if __name__ == "__main__":
    main()
