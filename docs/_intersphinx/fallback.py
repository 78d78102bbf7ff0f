"""Small offline intersphinx inventories for the projects netcoh links to.

The documentation must build without network access (``sphinx-build -W`` in CI), where
intersphinx cannot download the projects' ``objects.inv``. ``docs/conf.py`` writes the
entries below as Sphinx inventories (format version 2) into the build tree and points
intersphinx at them, so type names in docstrings (``ndarray``, ``array_like``,
``control.TransferFunction``, ...) still link to the upstream documentation. Only names
that netcoh's docstrings use are listed; every URI is the project's stable documentation
page for that object. With ``NETCOH_DOCS_ONLINE=1`` the full upstream inventories are tried
first and these are the fallback.

Each row: ``(name, domain:role, path relative to the project's base URL, display name)``;
a display name of ``"-"`` means "same as name".
"""

from __future__ import annotations

import zlib
from pathlib import Path

_PY_CLASSES = {"list": "stdtypes.html#list", "tuple": "stdtypes.html#tuple",
               "dict": "stdtypes.html#dict", "str": "stdtypes.html#str",
               "int": "functions.html#int", "float": "functions.html#float",
               "complex": "functions.html#complex", "bool": "functions.html#bool",
               "object": "functions.html#object"}

ENTRIES: dict[str, list[tuple[str, str, str, str]]] = {
    "python": [
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#bltin-boolean-values",
         "Boolean Type - bool"),
        ("iterable", "std:term", "glossary.html#term-iterable", "-"),
        ("sequence", "std:term", "glossary.html#term-sequence", "-"),
        ("generator", "std:term", "glossary.html#term-generator", "-"),
        ("mapping", "std:term", "glossary.html#term-mapping", "-"),
        ("None", "py:data", "library/constants.html#None", "-"),
        ("True", "py:data", "library/constants.html#True", "-"),
        ("False", "py:data", "library/constants.html#False", "-"),
        ("callable", "py:function", "library/functions.html#callable", "-"),
        ("ValueError", "py:exception", "library/exceptions.html#ValueError", "-"),
        ("TypeError", "py:exception", "library/exceptions.html#TypeError", "-"),
        ("RuntimeError", "py:exception", "library/exceptions.html#RuntimeError", "-"),
        ("Exception", "py:exception", "library/exceptions.html#Exception", "-"),
        ("Warning", "py:exception", "library/exceptions.html#Warning", "-"),
        ("UserWarning", "py:exception", "library/exceptions.html#UserWarning", "-"),
        ("dataclasses.replace", "py:function", "library/dataclasses.html#dataclasses.replace",
         "-"),
        ("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path", "-"),
        ("abc.ABC", "py:class", "library/abc.html#abc.ABC", "-"),
    ] + [(k, "py:class", f"library/{v}", "-") for k, v in _PY_CLASSES.items()],
    "numpy": [
        ("array_like", "std:term", "glossary.html#term-array_like", "-"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html", "Scalars"),
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray",
         "-"),
        ("numpy.random.Generator", "py:class",
         "reference/random/generator.html#numpy.random.Generator", "-"),
        ("numpy.random.default_rng", "py:function",
         "reference/random/generator.html#numpy.random.default_rng", "-"),
        ("numpy.random.RandomState", "py:class",
         "reference/random/legacy.html#numpy.random.RandomState", "-"),
        ("numpy.inf", "py:data", "reference/constants.html#numpy.inf", "-"),
        ("numpy.nan", "py:data", "reference/constants.html#numpy.nan", "-"),
    ],
    "scipy": [
        ("scipy.sparse", "py:module", "reference/sparse.html#module-scipy.sparse", "-"),
    ] + [
        (name, role, f"reference/generated/{name}.html#{name}", "-") for name, role in [
            ("scipy.sparse.csr_matrix", "py:class"), ("scipy.sparse.csr_array", "py:class"),
            ("scipy.sparse.csc_matrix", "py:class"), ("scipy.sparse.issparse", "py:function"),
            ("scipy.sparse.linalg.SuperLU", "py:class"),
            ("scipy.sparse.linalg.LinearOperator", "py:class"),
            ("scipy.sparse.linalg.splu", "py:function"),
            ("scipy.sparse.linalg.eigsh", "py:function"),
            ("scipy.sparse.linalg.lobpcg", "py:function"),
            ("scipy.linalg.expm", "py:function"), ("scipy.linalg.eigh", "py:function"),
            ("scipy.integrate.solve_ivp", "py:function"),
            ("scipy.optimize.minimize_scalar", "py:function"),
        ]
    ],
    "networkx": [
        ("networkx.Graph", "py:class", "reference/classes/graph.html#networkx.Graph", "-"),
    ],
    "control": [
        (name, role, f"generated/{name}.html#{name}", "-") for name, role in [
            ("control.TransferFunction", "py:class"), ("control.StateSpace", "py:class"),
            ("control.tf", "py:function"), ("control.ss", "py:function"),
            ("control.balred", "py:function"), ("control.forced_response", "py:function"),
            ("control.step_response", "py:function"),
            ("control.frequency_response", "py:function"),
        ]
    ],
    "pandapower": [
        ("pandapower.runpp", "py:function", "powerflow/ac.html#pandapower.runpp", "-"),
        ("pandapower.rundcpp", "py:function", "powerflow/dc.html#pandapower.rundcpp", "-"),
    ],
    "pandas": [
        ("pandas.DataFrame", "py:class",
         "reference/api/pandas.DataFrame.html#pandas.DataFrame", "-"),
        ("pandas.read_parquet", "py:function",
         "reference/api/pandas.read_parquet.html#pandas.read_parquet", "-"),
    ],
    "sklearn": [
        ("sklearn.datasets.load_digits", "py:function",
         "modules/generated/sklearn.datasets.load_digits.html#sklearn.datasets.load_digits", "-"),
    ],
    "distributed": [
        ("distributed.Client", "py:class", "api.html#distributed.Client", "-"),
        ("dask.distributed.Client", "py:class", "api.html#distributed.Client", "-"),
    ],
    "matplotlib": [
        ("matplotlib.axes.Axes", "py:class",
         "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes", "-"),
        ("matplotlib.figure.Figure", "py:class",
         "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure", "-"),
    ],
}


def write_inventories(directory: Path) -> dict[str, Path]:
    """Write one ``<project>.inv`` per project into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for project, rows in ENTRIES.items():
        body = "".join(f"{name} {role} -1 {uri} {disp}\n" for name, role, uri, disp in rows)
        header = ("# Sphinx inventory version 2\n"
                  f"# Project: {project}\n# Version: \n"
                  "# The remainder of this file is compressed using zlib.\n")
        data = header.encode() + zlib.compress(body.encode())
        path = directory / f"{project}.inv"
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        out[project] = path
    return out
