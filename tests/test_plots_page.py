"""The `dvc plots show` page renders with no network, checked in a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import dvc

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: `make setup` installs it when run as root "
                                                          "(or: apt-get install chromium)")
# Every host name resolves to nothing: the page must render from what it carries.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


class ChartMarks(HTMLParser):
    """Counts, per rendered Vega chart, the lines and the points it drew (SVG paths in mark groups). Lines
    are counted in the chart's first layer: DVC's line template draws each series twice, smoothed and raw."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, int]] = []
        self.stack: list[str] = []  # the class attribute of each open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag == "div" and "vega-embed" in classes.split():
            self.charts.append({"lines": 0, "points": 0})
            self.first_line_layer: str | None = None
        if tag == "path" and self.stack and self.charts and "role-mark" in self.stack[-1].split():  # not legends
            parent = self.stack[-1].split()
            if "mark-line" in parent:
                layer = next((c for c in parent if c.startswith("layer_")), "")
                self.first_line_layer = self.first_line_layer or layer
                self.charts[-1]["lines"] += layer == self.first_line_layer
            self.charts[-1]["points"] += "mark-symbol" in parent
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


# `plots diff HEAD` draws every series twice: for HEAD and for the workspace.
@pytest.mark.parametrize(("command", "revisions"), [(["plots", "show"], 1), (["plots", "diff", "HEAD"], 2)])
def test_plots_page_renders_every_chart_offline(pipeline: Path, tmp_path: Path, command: list[str],
                                                revisions: int) -> None:
    dvc(pipeline, *command, "--out", str(tmp_path / "page"))
    page = tmp_path / "page/index.html"
    assert not re.search(r"<script[^>]+src=", page.read_text()), "the page loads a script from elsewhere"
    dom = rendered_dom(page)
    assert 'data-rendered="4/4"' in dom  # the loss chart and three scatters, each embedded without error
    parser = ChartMarks()
    parser.feed(dom)
    loss, *scatters = parser.charts
    assert loss["lines"] == 6 * revisions  # train and validation loss for d = 1, 2, 64
    assert [s["points"] for s in scatters] == [300 * revisions] * 3  # every test image of the tiny run, per d
