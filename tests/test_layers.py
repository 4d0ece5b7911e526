"""The package's layers, read from its source: every import (inside functions too) goes down
or sideways, never up, and no modules import each other in a circle."""

import ast
from pathlib import Path

import tinygrad_lr

PACKAGE = Path(tinygrad_lr.__file__).parent

# Lowest first; a module may import only from its own layer or a lower one.
LAYERS = ("core", "teach", "library", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of the package, with the package modules it imports anywhere in its code."""
    found = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in found.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:  # `from . import numeric` imports the submodule
                    targets.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in found else module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in found and t != name}
    return graph


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself re-exports every layer
        return "cli"
    if parts[1] in ("cli", "__main__"):
        return "cli"
    return parts[1] if parts[1] in ("core", "teach") else "library"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{module} ({layer(module)}) imports {target} ({layer(target)})"
        for module, targets in imports().items()
        for target in targets
        if LAYERS.index(layer(target)) > LAYERS.index(layer(module))
    ]
    assert not upward


def test_no_import_cycle():
    assert cycles(imports()) == []


def test_no_op_imports_the_test_kit():
    ops = {m: t for m, t in imports().items() if m.startswith("tinygrad_lr.core.ops")}
    assert ops and not any("tinygrad_lr.testing" in targets for targets in ops.values())
    for path in (PACKAGE / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import hypothesis" not in text and "from hypothesis" not in text, path


def test_the_checks_see_a_cycle_and_an_upward_import():
    graph = {"tinygrad_lr.core.a": {"tinygrad_lr.teach.b"}, "tinygrad_lr.teach.b": {"tinygrad_lr.core.a"}}
    assert cycles(graph) == [["tinygrad_lr.core.a", "tinygrad_lr.teach.b"]]
    assert LAYERS.index(layer("tinygrad_lr.teach.b")) > LAYERS.index(layer("tinygrad_lr.core.a"))


def test_one_context_class():
    contexts = [
        node.name
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and "Context" in node.name
    ]
    assert contexts == ["Context"]
