"""Make the screenshot of the stepper's web page in the README and the docs.

python docs/make_screenshot.py            # rewrites docs/screenshots/stepper_page.png
python docs/make_screenshot.py OUT_DIR    # anywhere else (the browser tests do this)

It needs a Chromium (apt-get install chromium, or TINYGRAD_LR_CHROMIUM=/path/to/chrome) and
Playwright (in the dev install). The page is the lesson's 2x2 network at step 6 of its backward
pass, with p clicked.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import tinygrad_lr as tg


def chromium() -> str:
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    found = os.environ.get("TINYGRAD_LR_CHROMIUM") or next(filter(None, map(shutil.which, names)), None)
    if found is None:
        sys.exit("make_screenshot: no Chromium found; apt-get install chromium, or set TINYGRAD_LR_CHROMIUM")
    return found


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    loss = tg.lesson.network()
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        page_file = tg.Backprop(loss).html(Path(scratch) / "lesson.html")
        arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=chromium(), args=arguments)
        view = browser.new_page(viewport={"width": 1360, "height": 860})
        view.goto(page_file.as_uri())
        for _ in range(6):
            view.keyboard.press("ArrowRight")
        node = tg.draw(loss).ids
        p = next(n for n in node if n.label == "p")
        view.click(f"g.node[data-node='{node[p]}']")
        view.screenshot(path=out / "stepper_page.png")
        browser.close()
    print(f"wrote {out / 'stepper_page.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "screenshots")
