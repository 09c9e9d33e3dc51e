"""Run notebooks headlessly with the interpreter running this script, and say how it went.

    python scripts/run_notebooks.py                      # notebooks/01-…04-*.ipynb
    python scripts/run_notebooks.py notebooks/01-quickstart.ipynb --kernel NAME --out DIR

Each notebook runs top to bottom with nbclient, without an API key (so against smnb's
embedded server), in a fresh working directory under ``--out`` where the executed copy
is saved. A notebook fails if a cell raises or anything is printed on stderr. Prints one
line per notebook with its wall time; exits 1 if any failed. Used by
``scripts/check_envs.sh`` to run the notebooks in freshly installed environments;
``pytest tests/notebooks`` checks their outputs in detail.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = sorted(p for p in (ROOT / "notebooks").glob("0[1-4]-*.ipynb"))


def run(path: Path, out: Path, kernel: str, timeout: int) -> str | None:
    """Execute one notebook; None if it ran clean, else what went wrong."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    cwd = out / path.stem
    cwd.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, store_widget_state=True,
        resources={"metadata": {"path": str(cwd)}},
    )  # fmt: skip
    problem = None
    try:
        client.execute()
    except CellExecutionError as exc:
        problem = str(exc).strip().splitlines()[-1]
    nbformat.write(nb, out / path.name)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                problem = problem or f"stderr: {output['text'].strip()[:300]}"
    return problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--kernel", default="python3", help="kernelspec name (default python3)")
    parser.add_argument("--out", type=Path, help="where executed copies go (default: a temp dir)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    os.environ.pop("SPEECHMATICS_API_KEY", None)  # the embedded server, always
    out = args.out or Path(tempfile.mkdtemp(prefix="smnb-notebooks-"))
    failed = 0
    for path in args.notebooks:
        start = time.monotonic()
        problem = run(path, out, args.kernel, args.timeout)
        status = "ok" if problem is None else f"FAILED: {problem}"
        print(f"{path.name}: {time.monotonic() - start:.0f} s, {status}", flush=True)
        failed += problem is not None
    print(f"executed copies in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
