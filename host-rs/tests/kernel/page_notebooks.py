"""Jupyter's side of the notebooks the page and the kernel exchange (driven by
host-js/browser/jupyter.mjs, in target/jupyter-venv, with the Ruchy kernelspec on JUPYTER_PATH).

    python page_notebooks.py run IN OUT [--compare]

Reads IN, checks it against the nbformat schema (`nbformat.validate`), executes a copy with its
outputs cleared through nbclient, with the kernel its own metadata names (`kernelspec.name`, not
one given here), checks the result against the schema, and writes it to OUT. With --compare, every
code cell's execution count and outputs must equal IN's. nbformat.read joins the line lists of
both files the same way; the one difference allowed is the colour (ANSI escapes) the kernel puts
in a traceback's first line, which a file written by the page does not have. Prints a one-line
JSON summary; exits 1 with the differences when they differ.
"""

from __future__ import annotations

import copy
import json
import re
import sys

import nbformat
from nbclient import NotebookClient

TIMEOUT = 30
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def comparable(output: dict) -> dict:
    out = dict(output)
    if "traceback" in out:
        out["traceback"] = [ANSI.sub("", line) for line in out["traceback"]]
    return out


def run(src: str, dst: str, compare: bool) -> int:
    given = nbformat.read(src, as_version=4)
    nbformat.validate(given)
    nb = copy.deepcopy(given)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(nb, timeout=TIMEOUT, startup_timeout=TIMEOUT, allow_errors=True)
    client.execute()
    nbformat.validate(nb)
    nbformat.write(nb, dst)
    codes = [(a, b) for a, b in zip(given.cells, nb.cells) if a.cell_type == "code"]
    outputs = sum(len(b.outputs) for _, b in codes)
    summary = {
        "kernel": nb.metadata.get("kernelspec", {}).get("name"),
        "language": nb.metadata.get("language_info", {}).get("name"),
        "code_cells": len(codes),
        "outputs": outputs,
        "mime_types": sorted({m for _, b in codes for o in b.outputs for m in o.get("data", {})}),
    }
    print(json.dumps(summary))
    if not compare:
        return 0
    differences = []
    for i, (want, have) in enumerate(codes):
        if want.execution_count != have.execution_count:
            differences.append(
                f"code cell {i}: execution_count {have.execution_count}, the page's {want.execution_count}"
            )
        w = [comparable(o) for o in want.outputs]
        h = [comparable(o) for o in have.outputs]
        if w != h:
            differences.append(
                f"code cell {i} ({want.source!r}):\n  the page's: {json.dumps(w)}\n  Jupyter's: {json.dumps(h)}"
            )
    if differences:
        print("\n".join(differences), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "run":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(run(args[1], args[2], "--compare" in args[3:]))
