import os

from hypothesis import HealthCheck, settings

from tinygrad_lr.testing import load_user_ops

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

load_user_ops()  # TINYGRAD_LR_OPS=my_ops.py puts your ops under the registry-wide tests

# The tests' subprocesses start from the package alone, whatever the caller's shell has set:
# the user's ops were loaded above, into this process only.
for variable in ("TINYGRAD_LR_OPS", "PYTHONWARNINGS", "PYTHONSTARTUP", "COLUMNS"):
    os.environ.pop(variable, None)
