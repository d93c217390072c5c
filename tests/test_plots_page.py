"""The `dvc plots show` page renders with no network, checked in a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import RECIPES, dvc

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: `make setup` installs it when run as root "
                                                          "(or: apt-get install chromium)")
# Every host name resolves to nothing: the page must render from what it carries.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


class ChartMarks(HTMLParser):
    """What each rendered Vega chart drew: per chart, the stroke colour and dash pattern of every line and the
    fill colour of every point (SVG paths in mark groups, legends left out)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, list]] = []
        self.stack: list[str] = []  # the class attribute of each open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if tag == "div" and "vega-embed" in classes.split():
            self.charts.append({"lines": [], "points": []})
        if tag == "path" and self.stack and self.charts and "role-mark" in self.stack[-1].split():
            parent = self.stack[-1].split()
            if "mark-line" in parent:
                self.charts[-1]["lines"].append((attributes.get("stroke"), attributes.get("stroke-dasharray")))
            if "mark-symbol" in parent:
                self.charts[-1]["points"].append(attributes.get("fill"))
        if tag not in self.VOID:
            self.stack.append(classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()


def rendered_dom(page: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium with no network."""
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", OFFLINE,
                           "--virtual-time-budget=60000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


# `plots diff HEAD` draws every chart twice, one panel per revision: HEAD and the workspace.
@pytest.mark.xdist_group("pipeline")  # runs dvc in the shared pipeline
@pytest.mark.parametrize(("command", "revisions"), [(["plots", "show"], 1), (["plots", "diff", "HEAD"], 2)])
def test_plots_page_renders_every_chart_offline_coloured_by_what_it_compares(
        pipeline: Path, tmp_path: Path, command: list[str], revisions: int) -> None:
    dvc(pipeline, *command, "--out", str(tmp_path / "page"))
    page = tmp_path / "page/index.html"
    assert not re.search(r"<script[^>]+src=", page.read_text()), "the page loads a script from elsewhere"
    dom = rendered_dom(page)
    # The loss chart, three scatters and two sweep charts, each embedded without error.
    assert 'data-rendered="6/6"' in dom
    parser = ChartMarks()
    parser.feed(dom)
    loss, *scatters, sweep_loss, sweep_active = parser.charts
    # Train and validation loss for d = 1, 2, 64: a colour per d, solid for training, dashed for validation.
    assert len(loss["lines"]) == 6 * revisions
    assert len({stroke for stroke, _ in loss["lines"]}) == 3
    assert len({dashes for _, dashes in loss["lines"]}) == 2
    for scatter in scatters:
        # Every test image of the tiny run, a colour per digit.
        assert len(scatter["points"]) == 300 * revisions
        assert len(set(scatter["points"])) == 10
    # The sweep: a line per recipe, one point per d (two).
    for chart in (sweep_loss, sweep_active):
        assert len({stroke for stroke, _ in chart["lines"]}) == len(RECIPES)
        assert len(chart["lines"]) == len(RECIPES) * revisions and len(chart["points"]) == 2 * len(RECIPES) * revisions
