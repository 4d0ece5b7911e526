"""How big the stepper's web page gets, and how fast a browser opens and steps it.

The graph is the scalar graph of a 2-8-8-1 network's loss on two-moons points, grown until it
has at least ``--nodes`` Values (the nodes the stepper steps over; each op adds an ellipse to
the picture). For it and for the lesson's 2x2 network: the time to write the page (graphviz's
layout included) and its size; then, in headless Chromium (if one is found), the time to first
paint after opening the file, one step (→), and a jump to the end (End), measured inside the
page from the key press to the frame after the change (two animation frames, so at least one
frame interval, about 16 ms, is included in each). Medians of ``--repeats`` rounds.

    python benchmarks/stepper_page.py [--nodes 500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import tinygrad_lr as tg
from tinygrad_lr import nn

PAINT = """() => new Promise((resolve) => {
    new PerformanceObserver((list) => {
        const paint = list.getEntries().find((e) => e.name === 'first-contentful-paint');
        if (paint) resolve(paint.startTime);
    }).observe({type: 'paint', buffered: true});
})"""
STEP = """async keys => {
    const root = document.querySelector('.tglr');
    const press = (key) => document.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const painted = async () => {
        await frame();
        await frame();
    };
    press('Home');
    await painted();
    const times = [], scripts = [];
    for (let i = 0; i < keys; i++) {
        const start = performance.now();
        press('ArrowRight');
        scripts.push(performance.now() - start);
        await painted();
        times.push(performance.now() - start);
    }
    press('Home');
    await painted();
    const start = performance.now();
    press('End');
    await painted();
    const end = performance.now() - start;
    const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const at = root.querySelector('.tglr-counter').textContent;
    return {step: median(times), script: median(scripts), end, at};
}"""


def network_graph(target: int) -> tg.Value:
    model = nn.scalar.MLP([2, 8, 8, 1], seed=0)
    X, y = tg.data.make_moons(200, seed=0)
    loss, i = None, 0
    while loss is None or len(tg.engine.walk(loss)) < target:
        term = nn.functional.binary_cross_entropy(model(list(X[i])), y[i])
        loss = term if loss is None else loss + term
        i += 1
    return loss


def chromium() -> str | None:
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return os.environ.get("TINYGRAD_LR_CHROMIUM") or next(filter(None, map(shutil.which, names)), None)


def measure(name: str, loss, repeats: int, browser, folder: Path) -> None:
    nodes = tg.engine.walk(loss)
    writes = []
    for _ in range(repeats):
        start = time.perf_counter()
        path = tg.Backprop(loss).html(folder / f"{name}.html")
        writes.append(time.perf_counter() - start)
    size = path.stat().st_size
    steps = sum(1 for _ in tg.Backprop(loss))
    print(
        f"{name}: {len(nodes)} Values, {steps} steps; page {size / 1024:.0f} KB, "
        f"written in {statistics.median(writes):.2f} s"
    )
    if browser is None:
        return
    paints, single, scripts, ends = [], [], [], []
    for _ in range(repeats):
        view = browser.new_page(viewport={"width": 1360, "height": 860})
        view.goto(path.as_uri())
        paint = view.evaluate(PAINT)
        timing = view.evaluate(STEP, min(steps, 100))
        assert timing["at"] == f"step {steps} of {steps}", timing
        paints.append(paint)
        single.append(timing["step"])
        scripts.append(timing["script"])
        ends.append(timing["end"])
        view.close()
    print(
        f"  Chromium: first paint {statistics.median(paints):.0f} ms; one step "
        f"{statistics.median(scripts):.1f} ms of script, {statistics.median(single):.0f} ms to the "
        f"second frame after it; to the end {statistics.median(ends):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    graphs = {"lesson 2x2 network": tg.lesson.network(), "network": network_graph(args.nodes)}
    path = chromium()
    with tempfile.TemporaryDirectory() as scratch:
        if path is None:
            print(
                "no Chromium found (apt-get install chromium, or set TINYGRAD_LR_CHROMIUM): page sizes only"
            )
            for name, loss in graphs.items():
                measure(name, loss, args.repeats, None, Path(scratch))
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
            browser = playwright.chromium.launch(executable_path=path, args=arguments)
            for name, loss in graphs.items():
                measure(name, loss, args.repeats, browser, Path(scratch))
            browser.close()


if __name__ == "__main__":
    main()
