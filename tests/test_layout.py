"""The repository's layout rules: tests mirror modules file for file, modules stay small.

``smnb/<pkg>/<mod>.py`` is tested in ``tests/<pkg>/test_<mod>.py`` (a leading underscore of
the module dropped: ``smnb/_x.py`` → ``tests/test_x.py``); ``__init__.py`` files are
exempt. No module of smnb exceeds :data:`MAX_LINES` lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "smnb"
TESTS = ROOT / "tests"
MAX_LINES = 400

EXEMPT = {
    # `python -m smnb`: three lines handing over to smnb.cli.main, which
    # tests/cli/test_main.py runs through this very entry point.
    "smnb/__main__.py",
    # The version string and nothing else; its users (User-Agent, RecognitionStarted,
    # experiment provenance) are tested where they use it.
    "smnb/_version.py",
}
"""Modules without a mirrored test file, each with the reason."""


def mirrored_test(module: Path, package: Path = PACKAGE, tests: Path = TESTS) -> Path:
    """The test file of ``module`` (a path inside ``package``)."""
    relative = module.relative_to(package)
    return tests / relative.parent / f"test_{relative.stem.removeprefix('_')}.py"


def modules(package: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def untested(package: Path = PACKAGE, tests: Path = TESTS) -> list[str]:
    """Modules (but ``__init__.py`` and :data:`EXEMPT`) whose mirrored test file is missing."""
    return [
        f"{module.relative_to(package.parent).as_posix()} has no "
        f"{mirrored_test(module, package, tests).relative_to(tests.parent).as_posix()}"
        for module in modules(package)
        if module.name != "__init__.py"
        and module.relative_to(package.parent).as_posix() not in EXEMPT
        and not mirrored_test(module, package, tests).is_file()
    ]


def too_long(package: Path = PACKAGE) -> list[str]:
    counts = {m: len(m.read_text(encoding="utf-8").splitlines()) for m in modules(package)}
    return [
        f"{m.relative_to(package.parent).as_posix()}: {n} lines (at most {MAX_LINES})"
        for m, n in counts.items()
        if n > MAX_LINES
    ]


def test_every_module_has_its_mirrored_test_file() -> None:
    assert len(modules()) > 100  # the walk really sees the package
    missing = untested()
    assert not missing, "\n".join(missing)


def test_each_exemption_is_still_needed() -> None:
    for name in sorted(EXEMPT):
        module = ROOT / name
        assert module.is_file(), f"{name} is exempt but no longer exists"
        mirror = mirrored_test(module)
        assert not mirror.exists(), f"{name} is exempt but has {mirror.relative_to(ROOT)}"


def test_no_module_exceeds_the_line_limit() -> None:
    long = too_long()
    assert not long, "\n".join(long)


@pytest.mark.parametrize(
    ("module", "test"),
    [
        ("smnb/clock.py", "tests/test_clock.py"),
        ("smnb/server/pocketsphinx/unit.py", "tests/server/pocketsphinx/test_unit.py"),
        ("smnb/audio/_private.py", "tests/audio/test_private.py"),
    ],
)
def test_the_mirror_of_a_module(module: str, test: str) -> None:
    assert mirrored_test(ROOT / module) == ROOT / test


def test_the_checks_catch_a_missing_test_and_a_long_module(tmp_path: Path) -> None:
    package, tests = tmp_path / "smnb", tmp_path / "tests"
    (package / "sub").mkdir(parents=True)
    (tests / "sub").mkdir(parents=True)
    for name in ("__init__.py", "sub/__init__.py", "sub/tested.py", "sub/_hidden.py"):
        (package / name).write_text("x = 1\n", encoding="utf-8")
    (package / "sub/long.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    (tests / "sub/test_tested.py").write_text("", encoding="utf-8")
    (tests / "sub/test_long.py").write_text("", encoding="utf-8")
    assert untested(package, tests) == ["smnb/sub/_hidden.py has no tests/sub/test_hidden.py"]
    assert too_long(package) == [f"smnb/sub/long.py: {MAX_LINES + 1} lines (at most {MAX_LINES})"]
    (tests / "sub/test_hidden.py").write_text("", encoding="utf-8")
    (package / "sub/long.py").write_text("x = 1\n" * MAX_LINES, encoding="utf-8")
    assert untested(package, tests) == [] and too_long(package) == []
