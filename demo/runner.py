"""The lifetime of the models: one detector and one lifter per process, made once, closed at the end.

A :class:`Models` holds what a factory made (``load_models`` by default: the shipped or named
lifter and the named detector) and hands the same pair to every video a process handles while
the model settings stay the same; ``close`` frees them. Other factories (a stand-in pair in
tests, models already in memory) are passed in the same way: the job function never loads
models itself. A factory must be a module-level function when it is to reach worker processes.
"""

from __future__ import annotations

from typing import Any, Callable

from demo.errors import ModelError, one_line
from demo.manifest import settings_hash
from demo.pipeline import DetectorLike, LifterLike, Options, make_detector, make_lifter

#: options -> (detector, lifter)
ModelFactory = Callable[[Options], tuple[DetectorLike, LifterLike]]

#: the Options fields that decide which models are made
MODEL_FIELDS: tuple[str, ...] = ("detector", "detector_options", "lifter", "weights", "denoiser", "device",
                                 "flip", "max_people", "person", "verbose")


def load_models(options: Options) -> tuple[DetectorLike, LifterLike]:
    """The real models of the options; the lifter first, so a bad checkpoint fails before MediaPipe starts."""
    lifter = make_lifter(options)
    return make_detector(options), lifter


def factory_name(factory: ModelFactory) -> str:
    """``module:qualname`` of a factory: part of the settings hash (stand-ins never share outputs with real models)."""
    return f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', repr(factory))}"


class Models:
    """One process's detector and lifter (see the module docstring). Usable as a context manager."""

    def __init__(self, factory: ModelFactory = load_models):
        self.factory = factory
        self._key: str | None = None
        self._pair: tuple[Any, Any] | None = None

    def get(self, options: Options) -> tuple[DetectorLike, LifterLike]:
        """The pair for these options, made on first use; raises ModelError when they cannot be made."""
        key = settings_hash({name: getattr(options, name) for name in MODEL_FIELDS})
        if self._pair is None or key != self._key:
            self.close()
            try:
                self._pair = self.factory(options)
            except Exception as exc:
                raise ModelError(f"cannot load the detector or lifter: {one_line(exc)}") from exc
            self._key = key
        return self._pair

    def close(self) -> None:
        """Close the detector (the lifter needs no closing) and forget the pair."""
        if self._pair is not None and hasattr(self._pair[0], "close"):
            self._pair[0].close()
        self._pair, self._key = None, None

    def __enter__(self) -> "Models":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
