"""The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium.

A planner signs in, filters the ranked list, opens an employer, builds a plan and downloads
it as CSV and as an Excel workbook; the test reads what a person would see (rows, numbers)
and the downloaded files. A screenshot of every page lands in ``test-output/screenshots``
(``CALLE_TEST_OUTPUT`` moves it); the README shows the ones of the last run kept in
``docs/screenshots``. ``scripts/test`` installs Chromium and ChromeDriver where missing.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from calle.settings import Settings
from calle.store import open_store
from service.keys import create_key
from service.roles import Role
from tests.service.conftest import EMPLOYERS, TrainedRegistry, store_snapshot
from tests.service.running_service import running_service

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("CALLE_TEST_OUTPUT", ROOT / "test-output")) / "screenshots"
OFFICES_TOML = """
[offices."OF-01"]
states = ["01"]
capacity = 4

[offices."OF-11"]
states = ["11"]
capacity = 3
"""


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, trained_registry: TrainedRegistry
) -> Iterator[tuple[str, str, str]]:
    """A running `calle serve` over a store with a snapshot, office areas, the trained
    registry (a copy), and keys of a planner and a data scientist."""
    home = tmp_path_factory.mktemp("ui-browser")
    offices = home / "offices.toml"
    offices.write_text(OFFICES_TOML, encoding="utf-8")
    registry = home / "mlflow.db"
    shutil.copyfile(trained_registry.path, registry)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'store.db'}",
        offices_file=offices,
        mlflow_tracking_uri=f"sqlite:///{registry}",
    )
    engine = open_store(settings)
    with engine.begin() as connection:
        from calle.store import schema

        connection.execute(schema.employers.insert(), EMPLOYERS)
        connection.execute(schema.inspections.insert(), _inspections())
    store_snapshot(engine, "20260101-browser1")
    _, key = create_key(engine, Role.planner, "browser planner")
    _, scientist = create_key(engine, Role.data_scientist, "browser data scientist")
    engine.dispose()
    with running_service(settings) as base:
        yield base, key, scientist


def _inspections() -> list[dict]:
    """Two years of visits by four inspectors of two offices; INS-4 finds far more."""
    rows = []
    for i in range(400):
        inspector = f"INS-{i % 4 + 1}"
        rows.append(
            {
                "inspection_id": f"V{i:04d}",
                "employer_id": EMPLOYERS[i % len(EMPLOYERS)]["employer_id"],
                "date": datetime(2024 + i % 2, 1 + i % 12, 1 + i % 28),
                "origin": ("random", "planned", "complaint")[i % 3],
                "office": "OF-01" if inspector in ("INS-1", "INS-2") else "OF-11",
                "inspector_id": inspector,
                "violation_found": int(i % 7 < (6 if inspector == "INS-4" else 3)),
            }
        )
    return rows


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[WebDriver]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, (
        "Chromium and ChromeDriver are needed: ./scripts/test installs them (Debian packages "
        "chromium and chromium-driver)"
    )
    options = Options()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=es",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _click(driver: WebDriver, by: str, value: str) -> None:
    _click_element(driver, driver.find_element(by, value))


def _click_element(driver: WebDriver, element: WebElement) -> None:
    """Click what loads a new page, and wait until the new one has loaded.

    The old page is marked on its ``window``; a freshly loaded page has no mark. (Waiting
    for the old ``<html>`` to go stale races with Chromium discarding its node: the check
    itself can fail with "Node with given id does not belong to the document".)
    """
    driver.execute_script("window.__calle_old_page = true")
    element.click()
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.__calle_old_page === undefined && document.readyState === 'complete'"
        )
    )


def _shot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _downloaded(folder: Path, suffix: str, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}")


def test_a_planner_goes_from_sign_in_to_an_exported_plan(service, browser, downloads):
    base, key, _ = service
    browser.get(f"{base}/ui/rankings")
    assert "/ui/sign-in" in browser.current_url  # no session yet
    _shot(browser, "sign-in")
    browser.find_element(By.ID, "key").send_keys(key)
    _click(browser, By.ID, "sign-in")
    assert browser.current_url.startswith(f"{base}/ui/rankings")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Lista priorizada"  # Spanish first

    rows = browser.find_elements(By.CSS_SELECTOR, "#ranked tbody tr")
    assert len(rows) == len(EMPLOYERS)
    Select(browser.find_element(By.ID, "f-state")).select_by_value("11")
    _click(browser, By.ID, "apply")
    rows = browser.find_elements(By.CSS_SELECTOR, "#ranked tbody tr")
    in_state = [e for e in EMPLOYERS if e["state"] == "11"]
    assert len(rows) == len(in_state)
    ranks = [int(r.find_element(By.CSS_SELECTOR, "td.num").text) for r in rows]
    assert ranks == sorted(ranks)
    assert all(r.find_element(By.CSS_SELECTOR, ".reasons li").text for r in rows)
    _shot(browser, "rankings")

    first = rows[0]
    employer_id = first.get_attribute("data-employer")
    _click_element(browser, first.find_element(By.TAG_NAME, "a"))
    assert browser.current_url.endswith(f"/ui/employers/{employer_id}")
    name = next(e["name"] for e in EMPLOYERS if e["employer_id"] == employer_id)
    assert browser.find_element(By.ID, "employer-name").text == name
    categories = browser.find_elements(By.CSS_SELECTOR, "#categories tbody tr")
    assert [c.get_attribute("data-category") for c in categories] == ["safety_health"]
    _shot(browser, "employer")

    _click(browser, By.ID, "nav-plans")
    capacity = browser.find_element(By.ID, "cap-OF-01")
    assert capacity.get_attribute("value") == "4"  # the office file's capacity
    # the office filter: by what an office covers; hidden offices keep their capacity
    browser.find_element(By.ID, "office-filter").send_keys("estados 11")
    assert not capacity.is_displayed()
    assert browser.find_element(By.ID, "cap-OF-11").is_displayed()
    assert browser.find_element(By.ID, "office-count").text == "1 / 2"
    browser.find_element(By.ID, "p-exploration").clear()
    browser.find_element(By.ID, "p-exploration").send_keys("25")
    _shot(browser, "plan-builder")
    _click(browser, By.ID, "build")
    assert "/ui/plans/P" in browser.current_url
    plan_id = browser.find_element(By.ID, "plan-id").text
    visits = browser.find_elements(By.CSS_SELECTOR, "table.visits tbody tr")
    assert len(visits) == 4 + 3
    selections = {v.get_attribute("data-selection") for v in visits}
    assert selections <= {"model", "exploration", "mandatory"} and "model" in selections
    _shot(browser, "plan")

    browser.find_element(By.ID, "download-csv").click()
    with _downloaded(downloads, ".csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert {r["employer_id"] for r in exported} == {
        v.get_attribute("data-employer") for v in visits
    }
    browser.find_element(By.ID, "download-xlsx").click()
    book = load_workbook(_downloaded(downloads, ".xlsx"))
    assert book.sheetnames == ["OF-01", "OF-11"]
    assert book["OF-01"]["A1"].value.startswith(plan_id)
    assert book["OF-01"].max_row - 2 == 4 and book["OF-11"].max_row - 2 == 3

    _click(browser, By.ID, "print-view")
    assert browser.find_elements(By.CSS_SELECTOR, "section.office")
    _shot(browser, "plan-print")


def test_the_english_switch_and_signing_out(service, browser):
    base, _, _ = service
    browser.get(f"{base}/ui/rankings")
    _click(browser, By.ID, "language")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ranked list"
    assert "violations in the last 3 years" in browser.page_source
    _shot(browser, "rankings-en")
    _click(browser, By.ID, "nav-activity")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Inspection activity"
    cells = "#divergent-inspectors tbody tr td:first-child"
    flagged = browser.find_elements(By.CSS_SELECTOR, cells)
    assert "INS-4" in [cell.text for cell in flagged]
    _shot(browser, "activity")
    _click(browser, By.ID, "sign-out")
    assert "/ui/sign-in" in browser.current_url
    browser.get(f"{base}/ui/rankings")
    assert "/ui/sign-in" in browser.current_url


def test_a_data_scientist_sees_the_models_and_their_plots(service, browser):
    base, _, scientist = service
    browser.get(f"{base}/ui/")
    browser.find_element(By.ID, "key").send_keys(scientist)
    _click(browser, By.ID, "sign-in")
    assert browser.current_url.endswith("/ui/models")
    assert "1" in browser.find_element(By.ID, "champion").text
    images = browser.find_elements(By.CSS_SELECTOR, "#evaluation img")
    script = "return arguments[0].complete"
    WebDriverWait(browser, 15).until(lambda d: all(d.execute_script(script, i) for i in images))
    loaded = [browser.execute_script("return arguments[0].naturalWidth", i) for i in images]
    assert sum(1 for width in loaded if width) >= 3  # calibration, bars, importance at least
    assert not browser.find_elements(By.ID, "nav-rankings")  # not a planner
    _shot(browser, "models")
    _click(browser, By.ID, "sign-out")
