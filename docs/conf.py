"""Sphinx configuration for netcoh.

Build (warnings are errors, works offline)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated from ``__all__``: every public name of ``netcoh``, of
``netcoh.learning`` (and its per-paper modules) and of the capability subpackages gets a
page in ``docs/generated/`` (not committed), so a new export is documented without
editing any ``.rst`` file.

Offline by design: maths is rendered by a MathJax copy shipped on PyPI
(``sphinx-mathjax-offline``, copied into ``_static``), and intersphinx reads the small
inventories in ``docs/_intersphinx/`` unless ``NETCOH_DOCS_ONLINE=1`` asks for the projects'
full inventories too (a failed download then falls back to the local file without a
warning).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import netcoh  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")

project = "netcoh"
copyright = "the netcoh developers, BSD-3-Clause"
author = "the netcoh developers"
release = netcoh.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # MathJax 3 from PyPI, copied into _static/mathjax: math renders without a CDN
    "sphinx-mathjax-offline",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "_intersphinx",
                    "sg_execution_times.rst", "**/sg_execution_times.rst"]
# `name` links when it names an importable object (and must then resolve: nitpicky), and
# is set as code otherwise (parameter names, symbols); see `_CodeOrLink` below
default_role = "netcoh-obj"
nitpicky = True
# third-party names whose projects publish no inventory netcoh ships (docs/_intersphinx)
nitpick_ignore = [("py:obj", "pandapowerNet"), ("py:class", "pandapowerNet"),
                  ("py:obj", "andes.System")]

# -- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"netcoh {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
}
# the user-guide pages have no sub-pages: no empty navigation column on them
html_sidebars = {"**": ["sidebar-nav-bs"]} | {
    p.stem: [] for p in DOCS.glob("*.rst") if p.stem not in ("api",)}
html_show_sourcelink = False

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = False          # the stub pages are written below, from __all__
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"             # types live in the numpydoc sections
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "array_like": ":term:`numpy:array_like`",
    "array-like": ":term:`numpy:array_like`",
    "Generator": "numpy.random.Generator",
    "DataFrame": "pandas.DataFrame",
    "Axes": "matplotlib.axes.Axes",
    "Graph": "networkx.Graph",
    "TransferFunction": "control.TransferFunction",
    "StateSpace": "control.StateSpace",
    "NetworkSystem": "netcoh.NetworkSystem",
    "NodalDynamics": "netcoh.NodalDynamics",
}
# type words link only when they name a documented or inventoried object (the aliases are
# completed from the API and the offline inventories below); other words stay plain text
numpydoc_xref_ignore = "all"
numpydoc_validation_checks = set()     # tests/test_docstrings.py checks the parameters

# -- intersphinx (offline first) ---------------------------------------------------------
_ONLINE = os.environ.get("NETCOH_DOCS_ONLINE", "") == "1"
_TARGETS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "networkx": "https://networkx.org/documentation/stable/",
    "control": "https://python-control.readthedocs.io/en/0.10.2/",
    "pandapower": "https://pandapower.readthedocs.io/en/latest/",
    "pandas": "https://pandas.pydata.org/docs/",
    "matplotlib": "https://matplotlib.org/stable/",
    "sklearn": "https://scikit-learn.org/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
}
sys.path.insert(0, str(DOCS / "_intersphinx"))
from fallback import write_inventories  # noqa: E402

_LOCAL_INV = write_inventories(DOCS / "_build" / "_intersphinx")
# online: the project's own objects.inv first, the local subset if that fails (an info
# message, not a warning); offline (default): the local subset only, no network access
intersphinx_mapping = {
    name: (url, ((None,) if _ONLINE else ()) + (str(_LOCAL_INV[name]),))
    for name, url in _TARGETS.items()
}
intersphinx_timeout = 10

# -- sphinx-gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # one section per capability; a section exists once its folder has a README.rst
    "subsection_order": ["../examples/coherence", "../examples/reduction",
                         "../examples/nadir_screening", "../examples/validation",
                         "../examples/learning", "*"],
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "doc_module": ("netcoh",),
    # "Examples using ..." on every API page (minigallery), links from the code to the API
    "backreferences_dir": "generated/backreferences",
    # the execution-times pages load bootstrap and datatables from a CDN: not written
    "write_computation_times": False,
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 1,
    "show_memory": False,
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
    "capture_repr": (),              # print() what matters; no stray reprs of artists
}

# -- API pages generated from __all__ ----------------------------------------------------
# api.rst lists the top-level names (netcoh.__all__) and then one page per module: those the
# top level exports (netcoh.laplacian, netcoh.nodal, ...) and these subpackages, whether or
# not the top level exports them yet. Objects re-exported in several places get one page,
# under the first public name met (top level first); other listings link to it.
API_PACKAGES = ["netcoh.grids", "netcoh.reduction", "netcoh.analysis.nadir",
                "netcoh.analysis.nadir_sets", "netcoh.analysis.nadir_polytope", "netcoh.screening",
                "netcoh.screening.full_model",
                "netcoh.validate", "netcoh.grids.andes", "netcoh.grids.case_model",
                "netcoh.grids.event_losses", "netcoh.grids.andes_linear", "netcoh.analysis.lti",
                "netcoh.exceptions", "netcoh.learning"]
# Public submodules of these packages get pages too when they hold names the package does
# not re-export (the per-paper modules of netcoh.learning).
API_EXPAND_SUBMODULES = {"netcoh.learning"}
GENERATED = DOCS / "generated"
_GROUPS = [("class", "Classes"), ("function", "Functions"), ("exception", "Exceptions"),
           ("warning", "Warnings"), ("module", "Modules")]


def _kind(obj) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        if issubclass(obj, Warning):
            return "warning"
        if issubclass(obj, BaseException):
            return "exception"
        return "class"
    return "function" if callable(obj) else "data"


def _public_names(mod) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, v in vars(mod).items()
                 if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__]
    return [n for n in names if not n.startswith("__")]


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _table(rows) -> str:
    """autosummary table; rows are (target, kind, owned)."""
    lines = [".. autosummary::", "   :nosignatures:", ""]
    lines += [f"   ~{t}" for t, k, _ in rows]
    return "\n".join(lines) + "\n"


def _grouped(rows, char: str) -> str:
    parts = []
    for kind, label in _GROUPS:
        sel = [r for r in rows if r[1] == kind]
        if sel:
            parts.append(_title(label, char) + "\n" + _table(sel))
    data = [r for r in rows if r[1] == "data"]
    if data:
        parts.append(_title("Constants", char) + "\n" + _table(data))
    return "\n".join(parts)


def _toctree(rows, prefix: str = "") -> str:
    docs = [t for t, k, owned in rows if owned]
    if not docs:
        return ""
    return ".. toctree::\n   :hidden:\n\n" + "".join(f"   {prefix}{t}\n" for t in docs)


def _object_page(full: str, kind: str, aliases=()) -> str:
    modname = full.rpartition(".")[0]
    if kind == "function":
        body = f".. autofunction:: {full}\n"
    elif kind in ("exception", "warning"):
        body = f".. autoexception:: {full}\n   :show-inheritance:\n"
    elif kind == "data":
        body = _data_body(full)
    else:
        body = (f".. autoclass:: {full}\n   :members:\n   :show-inheritance:\n"
                "   :special-members: __call__\n")
    # the gallery examples that use the object, whichever public name they import it by
    names = " ".join(sorted({full, *aliases}))
    gallery = (f"\n.. minigallery:: {names}\n   :add-heading: Examples using ``{full}``\n"
               if kind != "data" else "")
    return f":orphan:\n\n{_title(full)}\n.. currentmodule:: {modname}\n\n{body}{gallery}"


def _data_body(full: str) -> str:
    """A ``py:data`` entry with the value and the ``#:`` comment of the defining module."""
    from sphinx.pycode import ModuleAnalyzer

    owner, _, name = full.rpartition(".")
    value = getattr(importlib.import_module(owner), name)
    doc = []
    for modname, mod in sorted(sys.modules.items()):
        if (modname.startswith("netcoh.") or modname == "netcoh") and \
                vars(mod).get(name) is value:
            try:
                doc = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", name), [])
            except Exception:    # a module without source: no comment to take
                doc = []
            if doc:
                break
    body = [f".. py:data:: {name}", f"   :module: {owner}", f"   :value: {value!r}", ""]
    body += [f"   {line}" if line else "" for line in doc]
    return "\n".join(body) + "\n"


def _aliases(obj) -> set[str]:
    """Importable dotted names of ``obj`` along its defining module's path."""
    mod, name = getattr(obj, "__module__", None), getattr(obj, "__name__", None)
    if not (isinstance(mod, str) and isinstance(name, str)):
        return set()
    parts, out = mod.split("."), set()
    for i in range(len(parts), 0, -1):
        owner = sys.modules.get(".".join(parts[:i]))
        if owner is not None and getattr(owner, name, None) is obj:
            out.add(f"{'.'.join(parts[:i])}.{name}")
    return out


class _Api:
    """Walk the public modules once; one page per object under its canonical name."""

    def __init__(self):
        self.canonical: dict[int, str] = {}      # id(obj) -> documented full name
        self.pages: dict[str, str] = {}          # full name -> rst text
        self.data: dict[str, str] = {}           # public path of a constant -> documented name

    def entry(self, owner: str, name: str, obj) -> tuple[str, str, bool]:
        """Page for ``owner.name`` unless ``obj`` already has one: (target, kind, owned)."""
        kind = _kind(obj)
        full = f"{owner}.{name}"
        if kind == "data":
            # constants have no identity of their own (small ints are shared): keyed by name
            first = next((v for k, v in self.data.items() if k.rpartition(".")[2] == name
                          and importlib.import_module(v.rpartition(".")[0]).__dict__.get(name)
                          is obj), None)
            self.data[full] = first or full
            if first:
                return first, kind, False
            self.pages[full] = _object_page(full, kind)
            return full, kind, True
        if id(obj) in self.canonical:
            return self.canonical[id(obj)], kind, False
        self.canonical[id(obj)] = full
        if kind == "module":
            self.module_page(full, obj)
        else:
            self.pages[full] = _object_page(full, kind, _aliases(obj) - {full})
        return full, kind, True

    def module_page(self, full: str, mod):
        rows = [self.entry(full, name, getattr(mod, name)) for name in _public_names(mod)]
        if full in API_EXPAND_SUBMODULES and hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__):
                if info.name.startswith("_"):
                    continue
                sub = importlib.import_module(f"{mod.__name__}.{info.name}")
                if id(sub) in self.canonical:
                    continue
                if any(id(getattr(sub, n)) not in self.canonical for n in _public_names(sub)):
                    rows.append(self.entry(full, info.name, sub))
        text = [":orphan:\n", _title(full)]
        # a link target under the public name, then the module docstring;
        # `currentmodule: None` keeps the tables' full names unambiguous
        text.append(f".. py:module:: {full}\n")
        text.append(f".. automodule:: {mod.__name__}\n   :no-members:\n   :no-index:\n")
        text.append(".. currentmodule:: None\n")
        if mod.__name__ != full:
            text.append(f"Also importable as ``{mod.__name__}``.\n")
        text.append(_grouped(rows, "-"))
        text.append(_toctree(rows))
        self.pages[full] = "\n".join(text)


def build_api() -> str:
    """Write the stub pages into docs/generated and return the body of ``api.rst``."""
    api = _Api()
    # objects first, then modules: an object re-exported at the top level gets its page
    # under that shortest name even when its subpackage is listed earlier in __all__
    names = _public_names(netcoh)
    order = sorted(names, key=lambda n: _kind(getattr(netcoh, n)) == "module")
    top = [api.entry("netcoh", name, getattr(netcoh, name)) for name in order]
    modules = [r for r in top if r[1] == "module"]
    for pkg in API_PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except ImportError:        # a capability that has not landed yet
            continue
        if id(mod) not in api.canonical:
            api.canonical[id(mod)] = pkg
            api.module_page(pkg, mod)
            modules.append((pkg, "module", True))
    body = [".. py:module:: netcoh\n", ".. currentmodule:: None\n",
            _title("Top level: ``import netcoh as nc``", "-"),
            _grouped([r for r in top if r[1] != "module"], "~"),
            _title("Modules and subpackages", "-"), _table(modules),
            _toctree([r for r in top if r[1] != "module"] + modules, prefix="generated/")]
    GENERATED.mkdir(exist_ok=True)
    wanted = {f"{full}.rst": text for full, text in api.pages.items()}
    for old in GENERATED.glob("*.rst"):
        if old.name not in wanted:
            old.unlink()
    for fname, text in wanted.items():
        path = GENERATED / fname
        if not path.is_file() or path.read_text() != text:   # keep mtimes: incremental builds
            path.write_text(text)
    global API
    API = api
    return "\n".join(body)


API: _Api
API_MARKER = ".. netcoh-api-reference::"
_API_BODY = build_api()


def _type_aliases() -> dict[str, str]:
    """Type words numpydoc links: documented netcoh names (full, importable aliases, and
    short names carried by one object) and the inventoried third-party names.

    A leading dot makes the target differ from the word (numpydoc leaves a word plain when
    they are equal) and asks Sphinx to search from the current module outward.
    """
    out: dict[str, str] = {}
    short: dict[str, set[str]] = {}
    for full in API.pages:
        out[full] = "." + full
        short.setdefault(full.rpartition(".")[2], set()).add(full)
    for name, targets in short.items():
        if len(targets) == 1:
            out.setdefault(name, "." + next(iter(targets)))
    from fallback import ENTRIES

    for rows in ENTRIES.values():
        for name, role, _, _ in rows:
            if role.startswith("py:"):
                out.setdefault(name, "." + name)
    return out


numpydoc_xref_aliases = _type_aliases() | numpydoc_xref_aliases


# User-guide pages written by the capability work; until one exists the toctree skips it
# (said once in the build log) instead of failing the build. Top-level pages nobody listed
# yet replace the `__more__` entry of the user-guide toctree, so a new page never breaks the
# build with "document isn't included in any toctree".
OPTIONAL_PAGES = ("grids", "reduction", "nadir", "learning", "validation")
# pages that sit in their own toctree sections of the index, not in the user guide
OTHER_SECTIONS = ("getting_started", "install", "cli", "cases", "performance", "citing",
                  "changelog")
MORE_MARKER = "   __more__"


def _drop_missing_pages(source: str) -> str:
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    listed = {line.strip() for line in source.splitlines() if line.startswith("   ")}
    lines = []
    for line in source.splitlines():
        name = line.strip()
        if line == MORE_MARKER:
            extra = sorted(p.stem for p in DOCS.glob("*.rst")
                           if p.stem not in listed and p.stem not in ("index", "api")
                           and p.stem not in OTHER_SECTIONS
                           and not p.read_text().lstrip().startswith(":orphan:"))
            for stem in extra:
                log.info(f"user guide: docs/{stem}.rst added at the end of the toctree")
                lines.append(f"   {stem}")
            continue
        if line.startswith("   ") and name in OPTIONAL_PAGES and not (DOCS / f"{name}.rst").is_file():
            log.info(f"user guide: docs/{name}.rst not written yet, skipped")
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


# -- the command-line reference, generated from the argument parsers ----------------------
CLI_MARKER = ".. netcoh-cli-reference::"


def _rst_text(text: str) -> str:
    """Plain help text as reStructuredText (no markup characters taken literally)."""
    for ch in ("\\", "*", "|"):
        text = text.replace(ch, "\\" + ch)
    return text.replace("`", "``")


def cli_reference() -> str:
    """One section per ``netcoh`` sub-command: usage, description and every option."""
    import argparse

    from netcoh.cli import build_parser

    os.environ["COLUMNS"] = "88"          # argparse wraps the usage to this width
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name in sorted(sub.choices):
        p = sub.choices[name]
        out += [_title(f"netcoh {name}", "-"), ".. code-block:: text", ""]
        out += ["   " + line for line in p.format_usage().strip().splitlines()] + [""]
        out += [_rst_text(p.description or ""), "", f".. program:: netcoh {name}", ""]
        for action in p._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if action.option_strings:
                metavar = "" if action.nargs == 0 else \
                    " " + (action.metavar or (("{" + ",".join(map(str, action.choices)) + "}")
                           if action.choices else action.dest.upper()))
                sig = ", ".join(f"{o}{metavar}" for o in action.option_strings)
            else:
                sig = action.metavar or action.dest
            out += [f".. option:: {sig}", "", "   " + _rst_text(action.help or "")]
            if action.default not in (None, False, argparse.SUPPRESS) and \
                    "default" not in (action.help or ""):
                out[-1] += f" (default ``{action.default}``)"
            out.append("")
    return "\n".join(out)


# -- the case catalogue, generated from the shipped case files ---------------------------
CASES_MARKER = ".. netcoh-case-catalogue::"


def case_catalogue() -> str:
    """The shipped cases: sizes (topologies loaded), provenance and licence of each."""
    import json

    from netcoh import grids
    from netcoh.commands.cases import case_table

    rows = case_table()
    cols = ["name", "buses", "branches", "machines", "f_hz", "topology", "synthesised"]
    out = [".. list-table::", "   :header-rows: 1", ""]
    out.append("   * - " + "\n     - ".join(["case", "buses", "branches", "machines",
                                             "f (Hz)", "topology", "synthesised fields"]))
    for r in rows:
        out.append("   * - " + "\n     - ".join(f"``{r[c]}``" if c in ("name", "topology")
                                               else f"{r[c]}" for c in cols))
    out.append("")
    for r in rows:
        doc = json.loads(grids.case_path(r["name"]).read_text(encoding="utf-8"))
        prov = doc["provenance"]
        out += [_title(f"``{r['name']}``: {doc.get('title', '')}".rstrip(": "), "~"),
                "Source", "   " + _rst_text(str(prov.get("source", ""))), "",
                "Licence", "   " + _rst_text(str(prov.get("licence", ""))), ""]
        for item in prov.get("synthesised", []):
            out += [f"Synthesised: {', '.join(item['fields'])}",
                    "   " + _rst_text(item["rule"]), ""]
    return "\n".join(out)


# -- build-time output: commands and code run while the site is built ---------------------
from docutils.parsers.rst import directives  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402


def _run_captured(func):
    """Run ``func()`` in a scratch directory; return (result, stdout)."""
    import contextlib
    import io
    import tempfile
    import warnings

    buf, cwd = io.StringIO(), os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = func()
        finally:
            os.chdir(cwd)
    return result, buf.getvalue()


class _CommandOutput(SphinxDirective):
    """``.. netcoh-command:: screen --top 5``: run the command now and show its output.

    The printed text is what the command prints on this build; a non-zero exit status
    is a build warning.
    """

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        import shlex

        from netcoh.cli import main

        argv = shlex.split(self.arguments[0])
        rc, text = _run_captured(lambda: main(argv))
        if rc:
            from sphinx.util import logging
            logging.getLogger(__name__).warning(
                f"`netcoh {self.arguments[0]}` exited with status {rc}",
                location=self.get_location())
        text = f"$ netcoh {self.arguments[0]}\n{text.rstrip()}"
        node = nodes.literal_block(text, text)
        node["language"] = "console"
        return [node]


class _ExecOutput(SphinxDirective):
    """``.. netcoh-exec::`` with Python code: show the code and what it prints on this build."""

    has_content = True
    option_spec = {"hide-code": directives.flag}

    def run(self):
        code = "\n".join(self.content)
        _, text = _run_captured(lambda: exec(compile(code, self.get_location(), "exec"), {}))
        out = []
        if "hide-code" not in self.options:
            src = nodes.literal_block(code, code)
            src["language"] = "python"
            out.append(src)
        res = nodes.literal_block(text.rstrip(), text.rstrip())
        res["language"] = "text"
        res["classes"].append("netcoh-output")
        return out + [res]


def _source_read(app, docname, source):
    if docname == "api" and API_MARKER in source[0]:
        source[0] = source[0].replace(API_MARKER, _API_BODY)
    elif CLI_MARKER in source[0]:
        source[0] = source[0].replace(CLI_MARKER, cli_reference())
    elif CASES_MARKER in source[0]:
        source[0] = source[0].replace(CASES_MARKER, case_catalogue())
    elif docname == "index":
        source[0] = _drop_missing_pages(source[0])


# -- cross-references ---------------------------------------------------------------------
# A documented object is linked under any name it can be imported by (``netcoh.reduction.
# clustering.spectral_clustering`` -> its page ``netcoh.spectral_clustering``), and a short
# name that only one documented object carries resolves to it. Attributes documented in a
# class's numpydoc "Attributes" section link to the class; a private or undocumented
# submodule links to the public package that exports its names.

def _prefixes(context) -> list[str | None]:
    """Import prefixes for a name met in ``context`` (a pending_xref or the ref context)."""
    mod, cls = context.get("py:module"), context.get("py:class")
    out = [f"{mod}.{cls}" if mod and cls else None, mod, "netcoh", None]
    return list(dict.fromkeys(p for p in out if p is not None)) + [None]


def _import(name: str, prefixes):
    """autosummary's ``import_by_name`` without the prefixes ``name`` already carries."""
    from sphinx.ext.autosummary import import_by_name

    return import_by_name(name, [p for p in prefixes if p is None
                                 or not (name == p or name.startswith(f"{p}."))])


def _has_field(owner: str, attr: str) -> bool:
    """Whether the documented class ``owner`` has ``attr`` (a member or a dataclass field)."""
    mod, _, name = owner.rpartition(".")
    cls = getattr(importlib.import_module(mod), name, None)
    return inspect.isclass(cls) and (
        hasattr(cls, attr) or attr in getattr(cls, "__dataclass_fields__", {})
        or attr in getattr(cls, "__annotations__", {}))


def _canonical(target: str, prefixes) -> str | None:
    """The documented full name that ``target`` (seen from ``prefixes``) refers to."""
    from sphinx.ext.autosummary import ImportExceptionGroup

    target = target.removesuffix("()").lstrip("~.")
    if target in API.pages:
        return target
    try:
        _, obj, parent, _ = _import(target, prefixes)
    except (ImportExceptionGroup, ImportError, ValueError):
        head, _, attr = target.rpartition(".")
        # `Class.attr` with `Class` known by a short or public name, or `attr` met inside
        # the docstring of a class (the first prefix): a member or a dataclass field
        owners = [_canonical(head, prefixes)] if head else \
            [_canonical(p, [None]) for p in prefixes[:1] if p]
        for owner in owners:
            if owner in API.pages and _has_field(owner, attr):
                return f"{owner}.{attr}"
        short = [n for n in API.pages if n.rpartition(".")[2] == target]
        return short[0] if len(short) == 1 else None
    last = target.rpartition(".")[2]
    if _kind(obj) == "data" and isinstance(parent, types.ModuleType):
        for path, doc in API.data.items():
            if path.rpartition(".")[2] == last:
                return doc
        return None
    if id(obj) in API.canonical:
        return API.canonical[id(obj)]
    if inspect.isclass(parent) and id(parent) in API.canonical:
        return f"{API.canonical[id(parent)]}.{last}"     # a method, or an attribute
    if isinstance(obj, types.ModuleType):                 # an undocumented submodule
        parts = obj.__name__.split(".")
        for i in range(len(parts) - 1, 0, -1):
            pkg = sys.modules.get(".".join(parts[:i]))
            if pkg is not None and id(pkg) in API.canonical:
                return API.canonical[id(pkg)]
    return None


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    canonical = _canonical(target, _prefixes(node))
    if canonical is None:
        return None
    domain = env.domains.python_domain
    builder = app.builder
    for typ in ("obj", "class"):
        ref = domain.resolve_xref(env, node["refdoc"], builder, typ, canonical, node, contnode)
        if ref is not None:
            return ref
    owner = canonical.rpartition(".")[0]       # an attribute listed in its class's docstring
    if owner in API.pages:
        return domain.resolve_xref(env, node["refdoc"], builder, "class", owner, node, contnode)
    return None


from docutils import nodes  # noqa: E402
from sphinx.util.docutils import SphinxRole  # noqa: E402


class _CodeOrLink(SphinxRole):
    """Default role: a cross-reference when the text names an object, code otherwise.

    numpydoc docstrings write parameter names and symbols in single backticks (`rho`,
    `L`); those are set as code. Text that names an importable object, a documented
    netcoh object or an object of a linked project's inventory becomes a ``py:obj``
    reference, which nitpicky mode then requires to resolve.
    """

    def run(self):
        text = self.text
        target = text.rpartition("<")[2].rstrip(">") if "<" in text else text
        target = target.strip().lstrip("~!.").removesuffix("()")
        if text.startswith("!") or not self._names_object(target):
            return [nodes.literal(self.rawtext, text.lstrip("!"), classes=["code"])], []
        role = self.env.domains.python_domain.role("obj")
        return role("obj", self.rawtext, text, self.lineno, self.inliner, self.options,
                    self.content)

    def _names_object(self, target: str) -> bool:
        from sphinx.ext.autosummary import ImportExceptionGroup

        if not target.replace(".", "").replace("_", "").isalnum():
            return False
        inventory = getattr(self.env, "intersphinx_inventory", {}) or {}
        if any(target in objs for typ, objs in inventory.items() if typ.startswith("py:")):
            return True
        if _canonical(target, _prefixes(self.env.ref_context)) is not None:
            return True
        if "." not in target:
            return False       # a bare name that is no documented object: a parameter
        try:
            _import(target, _prefixes(self.env.ref_context))
        except (ImportExceptionGroup, ImportError, ValueError):
            return False
        return True


def setup(app):
    app.connect("source-read", _source_read)
    app.connect("missing-reference", _missing_reference)
    app.add_role("netcoh-obj", _CodeOrLink())
    app.add_directive("netcoh-command", _CommandOutput)
    app.add_directive("netcoh-exec", _ExecOutput)
