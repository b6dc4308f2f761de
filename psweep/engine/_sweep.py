"""The ``sweep`` decorator and the :class:`Sweep` object it returns."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pandas as pd
import wrapt

from psweep.provenance import read_source
from psweep.errors import ParamsTypeError, SweepPickleError, check_options
from psweep.engine._run import run

__all__ = ["sweep", "Sweep"]

# Keyword arguments of run() that a Sweep may carry as options.
_OPTIONS = tuple(
    name for name in inspect.signature(run).parameters if name not in ("func", "params", "source")
)


def _call_through(wrapped: Callable[..., Any], instance: Any, args: tuple, kwargs: dict) -> Any:
    # A pset is a dict: the usual call costs one type check.
    if len(args) == 1 and type(args[0]) is not dict and not kwargs:
        _refuse_params(wrapped, args[0])
    elif not args and len(kwargs) == 1:
        _refuse_params(wrapped, next(iter(kwargs.values())))
    return wrapped(*args, **kwargs)


def _refuse_params(func: Callable[..., Any], value: Any) -> None:
    """Raise ParamsTypeError if `value` looks like params, not one pset.

    ``f(params)`` on a decorated function means ``f.over(params)``; called
    as is, it fails inside the user's code ("list indices must be
    integers"). A Mapping (any pset) and other values pass.
    """
    if isinstance(value, Mapping):
        return
    name = getattr(func, "__name__", "f")
    if isinstance(value, pd.DataFrame):
        what, fix = "a DataFrame", f"{name}.over(df.to_dict('records'))"
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], Mapping):
        what, fix = f"a {type(value).__name__} of {len(value)} dicts", f"{name}.over(params)"
    elif isinstance(value, Iterator):
        what, fix = f"an iterator ({type(value).__name__})", f"{name}.over(params)"
    else:
        return
    raise ParamsTypeError(
        f"{name}() was called with {what}, but calling a decorated function runs it on "
        f"one pset (a dict), as {name}({{'a': 1}}), without a database. To run it over "
        f"params and record the rows, use {fix}."
    )


class Sweep(wrapt.FunctionWrapper):
    """A function decorated with :func:`sweep`.

    Calling it calls the function on one pset (a list of psets, an
    iterator or a DataFrame is a :class:`~psweep.errors.ParamsTypeError`
    that names ``.over()``); ``.over(params)`` runs a study and
    ``.simulate(params)`` a dry run. It keeps the function's ``__name__``,
    ``__doc__``, signature and ``__wrapped__``, and pickles by reference
    like a plain function, so process pools and Dask can use it.

    Parameters
    ----------
    func
        The user's function ``func(pset) -> dict``.
    options
        Keyword arguments for :func:`psweep.run`.
    source
        Source text to record per run; default: read now from the module
        that defines `func`.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        options: Mapping[str, Any],
        source: str | None = None,
    ) -> None:
        super().__init__(func, _call_through)
        check_options(options, _OPTIONS, f"@ps.sweep on {func.__qualname__}")
        self._self_options = dict(options)
        self._self_source = read_source(func) if source is None else source

    @property
    def options(self) -> dict[str, Any]:
        """The run options this object was made with (a copy).

        Returns
        -------
        dict
        """
        return dict(self._self_options)

    def copy(self, **changes: Any) -> Sweep:
        """A new Sweep of the same function with some options changed.

        Parameters
        ----------
        **changes
            Options to replace, as for :func:`psweep.run`.

        Returns
        -------
        Sweep
        """
        check_options(changes, _OPTIONS, f"{self.__qualname__}.copy()")
        return Sweep(self.__wrapped__, {**self._self_options, **changes}, self._self_source)

    def over(self, params: Iterable[Mapping[str, Any]], **overrides: Any) -> pd.DataFrame:
        """Run the function over `params` and record one row per pset.

        Parameters
        ----------
        params
            Iterable of psets (dicts).
        **overrides
            Options for this call only, e.g. ``poolsize=4``.

        Returns
        -------
        pandas.DataFrame
            The database after the run (see :func:`psweep.run`).

        Examples
        --------
        >>> import psweep as ps
        >>> @ps.sweep(calc_dir="calc")
        ... def f(pset):
        ...     return {"y": pset["x"] ** 2}
        >>> f.over(ps.plist("x", [1, 2, 3]))["y"].tolist()
        [1, 4, 9]
        """
        check_options(overrides, _OPTIONS, f"{self.__qualname__}.over()")
        options = {**self._self_options, **overrides}
        return run(self, params, source=self._self_source, **options)

    def simulate(self, params: Iterable[Mapping[str, Any]], **overrides: Any) -> pd.DataFrame:
        """Dry run of :meth:`over` in ``<calc_dir>.simulate/``; the function is not called.

        Parameters
        ----------
        params
            Iterable of psets.
        **overrides
            Options for this call only.

        Returns
        -------
        pandas.DataFrame
            The simulated database: the real one plus rows without results.
        """
        return self.copy(simulate=True, **overrides).over(params)

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str, str]]:
        module, qualname = self.__module__, self.__qualname__
        _check_importable(module, qualname, self._self_source)
        return _lookup, (module, qualname)

    def __reduce_ex__(self, protocol: int) -> tuple[Callable[..., Any], tuple[str, str]]:
        # wrapt's proxy defines __reduce_ex__ to refuse pickling; ours wins.
        return self.__reduce__()

    def __repr__(self) -> str:
        return f"<psweep.Sweep {self.__module__}.{self.__qualname__}>"


def _check_importable(module: str, qualname: str, source: str | None) -> None:
    """Raise unless workers can find `module.qualname` by importing it."""
    fix = (
        "Move the decorated function to the top level of a module (not "
        "inside another function or under 'if __name__ == \"__main__\":'), "
        "so worker processes can import it."
    )
    if "<locals>" in qualname:
        raise SweepPickleError(
            f"{qualname!r} is defined inside a function, so worker processes "
            f"cannot find it. {fix}"
        )
    if module == "__main__" and source is not None and "." not in qualname:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        top = {
            node.name
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        if qualname not in top:
            raise SweepPickleError(
                f"{qualname!r} is not defined at the top level of the main "
                f"script (inside an 'if' block?), so worker processes that "
                f"re-import the script cannot find it. {fix}"
            )


def _lookup(module: str, qualname: str) -> Any:
    """Find a decorated function again in a worker (unpickling)."""
    obj: Any = importlib.import_module(module)
    try:
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise SweepPickleError(
            f"cannot find {module}.{qualname} after importing {module!r} in "
            f"this process. Define the decorated function at the top level "
            f"of a module."
        ) from exc
    return obj


def sweep(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Decorate ``func(pset) -> dict`` to run it over parameter sets.

    Works bare (``@ps.sweep``) and with options (``@ps.sweep(calc_dir=...)``).
    Nothing is written to disk when decorating; the source of the
    function's module is read now, to be stored with every run.

    Parameters
    ----------
    func
        The function; given when used without parentheses.
    **options
        Keyword arguments of :func:`psweep.run`, e.g. ``calc_dir="calc"``,
        ``backup=True``, ``poolsize=4``, ``skip_dups=True``.

    Returns
    -------
    Sweep or callable
        The decorated function, or a decorator when `func` is None.

    Raises
    ------
    OptionError
        For an option :func:`psweep.run` does not have (a ``TypeError``
        that suggests the closest name).

    Examples
    --------
    >>> import psweep as ps
    >>> @ps.sweep(calc_dir="calc")
    ... def f(pset):
    ...     return {"result": pset["a"] * pset["b"]}
    >>> f({"a": 2, "b": 3})
    {'result': 6}
    >>> df = f.over(ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", [8, 9])))
    >>> len(df)
    4
    """
    if func is None:
        check_options(options, _OPTIONS, "@ps.sweep(...)")
        return lambda f: Sweep(f, options)
    if not callable(func):
        raise TypeError(
            f"@ps.sweep got a {type(func).__name__} ({func!r:.80}); use it as "
            f"@ps.sweep or @ps.sweep(calc_dir=...), with options as keywords."
        )
    return Sweep(func, options)

