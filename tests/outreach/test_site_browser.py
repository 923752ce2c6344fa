"""The published map in real headless Chromium: search, filters, an initiative page, file:// use,
and no request leaving 127.0.0.1 (Chrome's performance log lists every request the pages made;
a proxy on a dead loopback port makes sure nothing could reach the outside anyway)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from loopback import free_port
from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.outreach.site.publish import publish_map, serve_map

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed "
                       "(apt-get install -y chromium chromium-driver)"),
    pytest.mark.skipif(not HAVE_SELENIUM, reason="selenium is not installed in the venv"),
]
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def catalogue() -> list[Initiative]:
    def make(id_, title, kind, orgs, audience, status, years, description=""):
        return Initiative(id_, title, kind, orgs, audience, status, tuple(Edition(y, date(y, 5, 2)) for y in years),
                          description=description, evidence=(f"https://exemple.fr/{id_}",))
    return [
        make("pint", "Pint of Science", "festival", ("LPEM",), ("grand_public",), "recurrente", (2024, 2025)),
        make("volcans", "Café des sciences : les volcans", "conference_grand_public", ("Géosciences",),
             ("grand_public",), "programmee", (2025,), "Une volcanologue répond au public."),
        make("robots", "Ateliers robotique dans les écoles", "atelier", ("Club Robot'Ik",), ("scolaires",),
             "recurrente", (2025,)),
        make("college", "La chimie au collège", "intervention_scolaire", ("Chimie", "LPEM"), ("scolaires",),
             "realisee", (2024,)),
        make("podcast", "Podcast « Octets et neurones »", "mediatisation", ("Informatique",),
             ("grand_public", "etudiants"), "en_projet", (2026,)),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("carte")
    publish_map(catalogue(), folder, generated_at=NOW)
    server = serve_map(folder)
    yield folder, server
    server.stop()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--window-size=1200,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}",
                 f"--proxy-server=http://127.0.0.1:{free_port()}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield chrome
    chrome.quit()


def shown_ids(driver) -> set[str]:
    return set(driver.execute_script(
        "return Array.from(document.querySelectorAll('#liste li[data-id]'))"
        ".filter(li => !li.hidden).map(li => li.dataset.id);"))


def settled_ids(driver, expected: set[str]) -> set[str]:
    """The shown ids once the page has applied the last input: events such as the form's reset run
    their update after a zero-delay timer, so poll for up to 5 s and return what is shown then."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, 5, poll_frequency=0.05).until(lambda d: shown_ids(d) == expected)
    except TimeoutException:
        pass  # the caller's assertion reports what is shown
    return shown_ids(driver)


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def choose(driver, select_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


def test_search_and_each_filter_narrow_the_list(site, driver):
    folder, server = site
    driver.get(server.url + "index.html")
    everything = {"pint", "volcans", "robots", "college", "podcast"}
    assert settled_ids(driver, everything) == everything
    search = driver.find_element("id", "q")
    search.send_keys("volcan")
    assert settled_ids(driver, {"volcans"}) == {"volcans"}
    assert driver.find_element("id", "compte").text == "1 initiative sur 5"
    search.clear()
    search.send_keys("ecoles ROBOT")  # accents, case and word order do not matter
    assert settled_ids(driver, {"robots"}) == {"robots"}
    search.clear()
    driver.execute_script("document.getElementById('q').dispatchEvent(new Event('input'))")
    assert settled_ids(driver, everything) == everything
    expectations = [
        ("organisateur", "LPEM", {"pint", "college"}),
        ("type", "atelier", {"robots"}),
        ("public", "scolaires", {"robots", "college"}),
        ("statut", "recurrente", {"pint", "robots"}),
        ("annee", "2024", {"pint", "college"}),
    ]
    for select_id, value, expected in expectations:
        choose(driver, select_id, value)
        assert settled_ids(driver, expected) == expected, select_id
        choose(driver, select_id, "")
    choose(driver, "public", "scolaires")
    choose(driver, "annee", "2025")
    assert settled_ids(driver, {"robots"}) == {"robots"}
    choose(driver, "type", "festival")
    assert settled_ids(driver, set()) == set() and driver.find_element("id", "vide").is_displayed()
    driver.find_element("id", "reinitialiser").click()
    assert settled_ids(driver, everything) == everything


def test_filters_come_from_the_address_and_an_initiative_page_opens(site, driver):
    _, server = site
    driver.get(server.url + "index.html?type=festival")
    assert settled_ids(driver, {"pint"}) == {"pint"}  # the page applies the address's filters after loading
    driver.find_element("link text", "Pint of Science").click()
    assert driver.current_url.endswith("/initiatives/pint.html")
    assert driver.find_element("tag name", "h1").text == "Pint of Science"
    assert driver.find_element("link text", "https://exemple.fr/pint").get_attribute("rel") == "noopener noreferrer nofollow"


def test_keyboard_reaches_the_skip_link_first(site, driver):
    from selenium.webdriver.common.keys import Keys

    _, server = site
    driver.get(server.url + "index.html")
    driver.find_element("tag name", "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "skip"


def test_works_from_a_file_share(site, driver):
    folder, _ = site
    driver.get(Path(folder, "index.html").as_uri())
    assert shown_ids(driver) == {"pint", "volcans", "robots", "college", "podcast"}
    choose(driver, "statut", "en_projet")
    assert settled_ids(driver, {"podcast"}) == {"podcast"}


def test_no_request_leaves_loopback(site, driver):
    folder, server = site
    driver.get_log("performance")  # drop what earlier tests did
    for page in ("index.html", "qui-fait-quoi.html", "chronologie.html", "initiatives/volcans.html"):
        driver.get(server.url + page)
    driver.get(Path(folder, "index.html").as_uri())
    urls = requested_urls(driver)
    assert any(u.endswith("/data.js") for u in urls) and any(u.endswith("/assets/map.css") for u in urls)
    outside = [u for u in urls if not (u.startswith(server.url) or u.startswith("file://") or u.startswith("data:"))]
    assert outside == []
    assert all(client == "127.0.0.1" for client, _ in server.requests)


def test_every_page_links_both_subscriptions(site, driver):
    import httpx

    _, server = site
    for page in ("index.html", "chronologie.html", "initiatives/volcans.html"):
        driver.get(server.url + page)
        agenda = driver.find_element("css selector", "footer a[href$='agenda.ics']")
        atom = driver.find_element("css selector", "footer a[href$='initiatives.atom']")
        assert agenda.is_displayed() and atom.is_displayed(), page
        assert "agenda" in agenda.text and "Atom" in atom.text
        alternate = driver.find_element("css selector", "link[rel='alternate'][type='application/atom+xml']")
        for href in (agenda.get_property("href"), atom.get_property("href"), alternate.get_property("href")):
            assert href.startswith(server.url) and httpx.get(href).status_code == 200, href
    assert httpx.get(server.url + "agenda.ics").text.startswith("BEGIN:VCALENDAR")
