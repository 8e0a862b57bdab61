"""The package surface: public names, stubs and py.typed ship with the wheel."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sessionstore


def test_public_names() -> None:
    for name in sessionstore.__all__:
        assert hasattr(sessionstore, name), name
    assert sessionstore.Store.__module__ == "sessionstore"
    assert sessionstore.StoreFactory.__module__ == "sessionstore"
    assert sessionstore.AsyncStore.__module__ == "sessionstore"
    assert sessionstore.AsyncStoreFactory.__module__ == "sessionstore"
    assert isinstance(sessionstore.__version__, str)


def test_stubs_ship_and_cover_the_module() -> None:
    pkg = Path(sessionstore.__file__).parent
    assert (pkg / "py.typed").exists()
    stub = ast.parse((pkg / "_sessionstore.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    stubbed |= {t.id for n in stub.body if isinstance(n, ast.AnnAssign) for t in [n.target] if isinstance(t, ast.Name)}
    native = {n for n in dir(sessionstore._sessionstore) if not n.startswith("_")}
    assert native <= stubbed, native - stubbed
    classes = {n.name: n for n in stub.body if isinstance(n, ast.ClassDef)}
    for cls in ("Store", "StoreFactory", "Opaque", "AsyncStore", "AsyncStoreFactory"):
        methods = {m.name for m in classes[cls].body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        real = {m for m in dir(getattr(sessionstore, cls)) if not m.startswith("_")}
        assert real <= methods, (cls, real - methods)
    init_stub = (pkg / "__init__.pyi").read_text()
    for name in sessionstore.__all__:
        assert f"{name} as {name}" in init_stub, name


def test_stubs_match_the_module_per_stubtest(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy checks the stubs when installed (make test-python installs it)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "sessionstore"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_quick_start_runs() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.exists():
        pytest.skip("README.md is not beside the tests")
    text = readme.read_text()
    block = text.split("## Quick start", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, str(readme), "exec"), {"__name__": "readme"})


def test_readme_asyncio_example_runs() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.exists():
        pytest.skip("README.md is not beside the tests")
    block = readme.read_text().split("## asyncio", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, str(readme), "exec"), {"__name__": "readme"})


def test_module_docstring_example_runs() -> None:
    doc = sessionstore.__doc__ or ""
    example = "\n".join(line[4:] for line in doc.split("::", 1)[1].splitlines() if line.startswith("    "))
    exec(compile(example, "sessionstore.__doc__", "exec"), {})


def test_socketio_is_an_optional_dependency() -> None:
    """Without python-socketio, `import sessionstore` works and `sessionstore.socketio` says
    how to get it."""
    code = (
        "import sys\n"
        "sys.modules['socketio'] = None  # as if not installed\n"
        "import sessionstore\n"
        "try:\n"
        "    import sessionstore.socketio\n"
        "except ImportError as e:\n"
        "    assert 'sessionstore[socketio]' in str(e), e\n"
        "    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
