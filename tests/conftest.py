import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

from tinygrad_lr.testing import load_user_ops

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# TINYGRAD_LR_OPS=my_ops.py puts your ops under the registry-wide tests (files as absolute paths:
# the workers below may start in another folder)
USER_OPS = ",".join(load_user_ops(os.environ.get("TINYGRAD_LR_OPS", "")))

# The tests' subprocesses start from the package alone, whatever the caller's shell has set:
# the user's ops were loaded above, into this process only.
for variable in ("TINYGRAD_LR_OPS", "PYTHONWARNINGS", "PYTHONSTARTUP", "COLUMNS"):
    os.environ.pop(variable, None)


# pytest-xdist's workers start after this file ran here, with the environment as left above: the
# user's ops reach them as part of what each worker is given, and each loads them at its start.
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["tinygrad_lr_ops"] = USER_OPS


def pytest_configure(config):
    given = getattr(config, "workerinput", {}).get("tinygrad_lr_ops")
    if given and not USER_OPS:
        load_user_ops(given)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from ``tg.manual_seed(0)``: what it draws from the global generator
    (initial weights, dropout masks, ``rand``) does not depend on the tests run before it in
    the same process."""
    import tinygrad_lr

    tinygrad_lr.manual_seed(0)


@pytest.fixture(scope="session")
def quiet_demo(tmp_path_factory):
    """``tinygrad-lr demo --out OUT --epochs 2 --quiet``, run once for the tests that read what it
    printed and wrote (they must not change OUT): its status and output, and OUT."""
    from .inprocess import run

    out = tmp_path_factory.mktemp("quiet_demo") / "out"
    return run("demo", "--out", str(out), "--epochs", "2", "--quiet"), out


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright, for the tests marked ``browser``; they skip
    without one, unless TINYGRAD_LR_REQUIRE_BROWSER is set (as .ci/run sets it).

    One per module, not per session: Playwright's sync API keeps an event loop running in the
    thread while it is open, and later tests that call ``asyncio.run`` must not find one."""
    path = _chromium()
    if path is None:
        if os.environ.get("TINYGRAD_LR_REQUIRE_BROWSER"):
            pytest.fail("no Chromium found, but TINYGRAD_LR_REQUIRE_BROWSER is set")
        pytest.skip(
            "no Chromium for the browser tests: apt-get install chromium (Debian, Ubuntu), or set "
            "TINYGRAD_LR_CHROMIUM to a Chrome or Chromium; .ci/run installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        arguments = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
        chromium = playwright.chromium.launch(executable_path=path, args=arguments)
        yield chromium
        chromium.close()


def _chromium() -> str | None:
    """$TINYGRAD_LR_CHROMIUM, or a Chromium or Chrome on PATH."""
    given = os.environ.get("TINYGRAD_LR_CHROMIUM")
    if given:
        return given
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((path for path in map(shutil.which, names) if path), None)
