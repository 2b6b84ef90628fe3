"""Write the API reference pages from the ``__all__`` lists (run by ``conf.py``).

One page per public object, under the subpackage that defines it (``dotwise.lstsq`` is
``dotwise.linalg.lstsq``: one object, one page, so Sphinx sees no duplicate), one page
per subpackage with a summary table of its ``__all__``, and a page for the top-level
``dotwise`` namespace that links every re-exported name to its page. Subpackages are
discovered, not listed: any public subpackage with an ``__all__`` that imports gets a
page (the faces ``cli``, ``playground`` and ``tour`` have no Python API to document).

The generated folder is ``docs/api/`` (git-ignored); ``public_names()`` and
``page_of()`` are also what ``tests/test_docs.py`` checks the built site against.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import shutil
from pathlib import Path

FACES = {"cli", "playground", "tour"}


def subpackages() -> tuple[dict[str, object], dict[str, str]]:
    """``{"dotwise.linalg": module, ...}`` and ``{"dotwise.scale": "why it was skipped"}``."""
    import dotwise

    found, skipped = {}, {}
    for info in sorted(pkgutil.iter_modules(dotwise.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name.startswith("_") or info.name in FACES:
            continue
        name = f"dotwise.{info.name}"
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:  # an optional extra is missing (dotwise.scale needs dask)
            skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        if isinstance(getattr(mod, "__all__", None), (list, tuple)):
            found[name] = mod
    return found, skipped


def public_names() -> dict[str, list[str]]:
    """``{"dotwise": [...], "dotwise.linalg": [...], ...}``: every ``__all__``, in order."""
    import dotwise

    out = {"dotwise": list(dotwise.__all__)}
    for name, mod in subpackages()[0].items():
        out[name] = list(mod.__all__)
    return out


def unavailable() -> dict[str, str]:
    """``{"dotwise.scale.search": "ModuleNotFoundError: No module named 'dask'"}``.

    Names listed in an ``__all__`` whose lazy import fails where the docs are built
    (an optional dependency is missing). They get no page, and the package page says so.
    """
    import dotwise

    mods = {"dotwise": dotwise, **subpackages()[0]}
    out = {}
    for pkg, attrs in public_names().items():
        for attr in attrs:
            try:
                getattr(mods[pkg], attr)
            except ImportError as exc:
                out[f"{pkg}.{attr}"] = f"{type(exc).__name__}: {exc}"
    return out


def page_of() -> dict[str, str]:
    """``{"dotwise.lstsq": "dotwise.linalg.lstsq", ...}``: each public name → its page."""
    import dotwise

    mods = {"dotwise": dotwise, **subpackages()[0]}
    names = public_names()
    missing = unavailable()
    pages: dict[str, str] = {}
    for pkg in [p for p in names if p != "dotwise"] + ["dotwise"]:
        for attr in names[pkg]:
            if f"{pkg}.{attr}" in missing:
                continue
            obj = getattr(mods[pkg], attr)
            pages[f"{pkg}.{attr}"] = _canonical(obj, attr, pkg, mods, names)
    return pages


def _canonical(obj, attr, pkg, mods, names) -> str:
    owner = getattr(obj, "__module__", None) if _has_own_module(obj) else None
    candidates = [p for p in names if p != "dotwise" and attr in names[p]
                  and getattr(mods[p], attr, None) is obj]
    for p in candidates:  # the subpackage that defines it
        if owner and (owner == p or owner.startswith(p + ".")):
            return f"{p}.{attr}"
    if candidates:
        return f"{candidates[0]}.{attr}"
    return f"{pkg}.{attr}"


def _has_own_module(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj) \
        or callable(obj) and hasattr(obj, "__module__") and not isinstance(obj, type(inspect))


def page_file(target: str, targets) -> str:
    """The generated page's path (no suffix) for ``target``; case clashes get a suffix."""
    clash = [t for t in sorted(targets) if t.lower() == target.lower()]
    stem = target if clash.index(target) == 0 else f"{target}-{clash.index(target)}"
    return f"generated/{stem}"


def _kind(obj) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.ismethod(obj):
        return "function"
    if callable(obj) and not isinstance(obj, (int, float, str, tuple, list, dict)):
        return "function"
    return "data"


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _object_page(full: str, obj) -> str:
    pkg, attr = full.rsplit(".", 1)
    kind = _kind(obj)
    lines = [_title(attr.replace("_", r"\_")), f".. currentmodule:: {pkg}", ""]
    if kind == "module":  # a submodule named in __all__ (dotwise.scale's lazy ones)
        lines = lines[:1] + [f".. automodule:: {full}", "   :no-members:", "",
                             f".. currentmodule:: {full}", ""]
        for member in _module_members(obj):
            lines += _directive(member, getattr(obj, member))
        return "\n".join(lines)
    return "\n".join(lines + _directive(attr, obj))


def _directive(attr: str, obj) -> list[str]:
    kind = _kind(obj)
    if kind == "module":
        return [f".. automodule:: {obj.__name__}", "   :no-members:", ""]
    lines = [f".. auto{kind}:: {attr}"]
    if kind in ("class", "exception"):
        lines.append("   :members:")
        described = _attributes_section(obj)
        if described:  # napoleon already writes these from the docstring: not twice
            lines.append(f"   :exclude-members: {', '.join(described)}")
    return lines + [""]


def _module_members(module) -> list[str]:
    """A submodule's ``__all__``, or else its public names defined in it."""
    if isinstance(getattr(module, "__all__", None), (list, tuple)):
        return list(module.__all__)
    return [n for n, v in vars(module).items() if not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__
            and (inspect.isclass(v) or inspect.isfunction(v))]


def _attributes_section(cls) -> list[str]:
    """The names listed in the numpydoc ``Attributes`` section of ``cls``'s docstring."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    names, inside = [], False
    for i, line in enumerate(lines):
        header = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and line.strip()
        if header:
            inside = line.strip() == "Attributes"
            continue
        if inside and line and not line[0].isspace() and not set(line.strip()) <= {"-"}:
            name = line.split(":")[0].strip()
            if name.isidentifier():
                names.append(name)
    return names


def _summary(entries: list[str]) -> list[str]:
    if not entries:
        return []
    return ["", ".. autosummary::", "   :nosignatures:", ""] + [f"   ~{e}" for e in entries] + [""]


def render() -> dict[str, str]:
    """``{relative path: text}`` of every generated page."""
    import dotwise

    mods = {"dotwise": dotwise, **subpackages()[0]}
    skipped = subpackages()[1]
    names = public_names()
    pages = page_of()
    files: dict[str, str] = {}
    owned: dict[str, list[str]] = {pkg: [] for pkg in names}
    owned_all = {t for f, t in pages.items() if f == t}
    for full, target in pages.items():
        if full == target:
            owned[target.rsplit(".", 1)[0]].append(target)
            files[page_file(target, owned_all) + ".rst"] = _object_page(target, _resolve(mods, target))

    order = ["dotwise"] + [p for p in names if p != "dotwise"]
    for pkg in order:
        text = [_title(f"``{pkg}``"),
                f".. automodule:: {pkg}", "   :no-members:", "",
                # full names in the tables, so no "current module" prefix is assumed
                ".. currentmodule:: None", ""]
        listed = [a for a in names[pkg] if f"{pkg}.{a}" in pages]
        own = [pages[f"{pkg}.{a}"] for a in listed if pages[f"{pkg}.{a}"] in owned[pkg]]
        elsewhere = [pages[f"{pkg}.{a}"] for a in listed if pages[f"{pkg}.{a}"] not in own]
        if pkg == "dotwise":
            text += ["Every name importable as ``dotwise.<name>`` (``import dotwise as dw``). "
                     "Most are re-exported from a subpackage and documented there; "
                     "the link leads to the page.", ""]
        text += _summary(own)
        if elsewhere:
            text += [_title("Re-exported here, documented in another subpackage", "-")]
            text += _summary(elsewhere)
        missing = {k: v for k, v in unavailable().items() if k.startswith(pkg + ".")
                   and k.count(".") == pkg.count(".") + 1}
        if missing:
            text += [_title("Not importable where these pages were built", "-"),
                     "These names need an optional dependency that was not installed:", ""]
            text += [f"- ``{k}`` ({v})" for k, v in missing.items()] + [""]
        if own:
            text += [".. toctree::", "   :hidden:", ""] + [f"   {page_file(t, owned_all)}" for t in own] + [""]
        files[f"{pkg}.rst"] = "\n".join(text)

    index = [_title("API reference"),
             "Generated from the ``__all__`` list of ``dotwise`` and of each subpackage: "
             "every public name has a page. Docstrings follow numpydoc: shapes, formulas, "
             "the errors raised, and examples that run as doctests.", "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p}" for p in order] + [""]
    if skipped:
        index += ["Subpackages not documented in this build, because an optional dependency "
                  "is missing where the docs were built:", ""]
        index += [f"- ``{k}`` ({v})" for k, v in skipped.items()] + [""]
    files["index.rst"] = "\n".join(index)
    return files


def _resolve(mods, full: str):
    pkg, attr = full.rsplit(".", 1)
    return getattr(mods[pkg], attr)


def write_api(outdir: Path) -> None:
    """Rewrite ``outdir`` with the generated pages (files whose text is unchanged are kept)."""
    files = render()
    outdir = Path(outdir)
    (outdir / "generated").mkdir(parents=True, exist_ok=True)
    wanted = {outdir / rel for rel in files}
    for path in list(outdir.rglob("*.rst")):
        if path not in wanted:
            path.unlink()
    for rel, text in files.items():
        path = outdir / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for extra in outdir.iterdir():
        if extra.is_dir() and extra.name != "generated":
            shutil.rmtree(extra)
