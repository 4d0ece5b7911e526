"""The command line run inside the test process: ``tinygrad_lr.cli.main(argv)`` with its own
stdin, stdout and stderr, giving what ``subprocess.run`` would (status, stdout, stderr) without
starting Python again. The tests that need a real process (a terminal, a closed pipe, the
streams Python sets up from the environment, the installed command) still start one."""

import io
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

from tinygrad_lr.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _stream() -> io.TextIOWrapper:
    """A UTF-8 text stream, as a pipe gives a process under a UTF-8 locale (and as pytest captures)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)


@contextmanager
def _swapped(cwd, stdin: str):
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd(), os.environ.get("COLUMNS")
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), _stream(), _stream()
    os.environ["COLUMNS"] = "80"  # argparse's help wraps as for a pipe, whatever the terminal
    try:
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        out, err = sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr, where, columns = saved
        os.chdir(where)
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
        out.close()
        err.close()


def run(*args: str, cwd=None, stdin: str = "") -> Ran:
    """``tinygrad-lr ARGS`` in ``cwd`` (default: the current folder), reading ``stdin`` (default:
    nothing, as with no input piped in). An exception that ``main`` lets through is raised here,
    where a process would have printed a traceback and exited with status 1."""
    with _swapped(cwd, stdin):
        try:
            status = main(list(args))
        except SystemExit as done:  # argparse: --help, --version, and a mistake in the options
            status = done.code
            if isinstance(status, str):
                print(status, file=sys.stderr)
                status = 1
        status = 0 if status is None else status
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(status, _text(sys.stdout), _text(sys.stderr))


def _text(stream: io.TextIOWrapper) -> str:
    """What was written, with line ends read as ``subprocess.run(text=True)`` reads them."""
    return stream.buffer.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
