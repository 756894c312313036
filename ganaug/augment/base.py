"""``BaseAugmenter``: the one template behind every ganaug augmenter.

Written once here (as imbalanced-learn's ``BaseSampler`` does for its
samplers): validation of ``y``, ``random_state``, ``sampling_strategy``,
``fit`` / ``sample`` / ``fit_resample``, the round trip of the caller's
containers, and ``save`` / ``load`` without pickle. A modality supplies:

``_validate_X(X, reset)``
    Check ``X`` and return the internal form (remembering the input layout
    when ``reset``); raise ``ValueError``/``TypeError`` naming the problem.
``_n_rows(X_internal)``
    Number of items.
``_fit_generator(X_internal, codes, seed)``
    Train the generative model; ``codes`` are class codes ``0..k-1`` (all 0
    when fitted without labels).
``_generate(codes, seed)``
    Make one synthetic item per entry of ``codes`` (an int array), returned in
    the caller's container type (DataFrame, array layout and dtype as fitted).
``_concat(X, X_new)``
    Original items first, unchanged, then the new ones, in the caller's container.
``_get_state()`` / ``_set_state(state, tensors)``
    Fitted state as (JSON-able dict, dict of tensors) and back.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.base import SamplerMixin
from imblearn.utils import check_sampling_strategy
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ganaug._labels import (
    LabelFormat,
    _label_array,
    allocate_counts,
    classes_from_json,
    classes_to_json,
    encode_labels,
    label_repr,
    squeeze_labels,
)
from ganaug.core.trainer import build_trainer, quiet_lightning
from ganaug.exceptions import ModelFormatError
from ganaug.io import load_model_dir, save_model_dir, to_jsonable
from ganaug.utils import limit_threads, seed_everything, seed_from_random_state

__all__ = ["BaseAugmenter", "register_augmenter"]

#: classes that ``load`` may instantiate; nothing else is ever imported from a file
_REGISTRY: dict[str, type] = {}


def register_augmenter(cls: type) -> type:
    """Class decorator: allow ``BaseAugmenter.load`` to rebuild this class."""
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    _REGISTRY[cls.__name__] = cls
    return cls


def _as_table(X_new):
    """A generated chunk as a DataFrame with str column names (arrays get x0, x1, ...)."""
    import pandas as pd

    if isinstance(X_new, np.ndarray) and X_new.ndim != 2:
        raise TypeError(f"sample_to_file writes tables; this model makes items of shape {X_new.shape[1:]}: "
                        "use iter_samples() and save the arrays yourself")
    frame = X_new if isinstance(X_new, pd.DataFrame) else pd.DataFrame(
        X_new, columns=[f"x{i}" for i in range(X_new.shape[1])])
    return frame.set_axis([str(c) for c in frame.columns], axis=1)


class BaseAugmenter(SamplerMixin, BaseEstimator):
    """Base class of the augmenters (not used directly).

    Subclasses have at least the parameters ``sampling_strategy``,
    ``random_state``, ``epochs``, ``batch_size`` and ``trainer``.
    """

    _sampling_type = "over-sampling"
    #: fewest items a class needs for the model to learn it
    _min_class_size: ClassVar[int] = 2
    #: parameters that may hold objects JSON cannot store (saved as null)
    _unsaved_params: ClassVar[tuple[str, ...]] = ("trainer",)
    #: parameters added after a model could already be saved -> the value such a model was built with
    #: (a file saved before they existed loads as the model it was, not with today's defaults)
    _params_added_later: ClassVar[dict] = {}

    # ---------------------------------------------------------- modality hooks
    def _validate_X(self, X, reset: bool):  # pragma: no cover - abstract
        raise NotImplementedError

    def _n_rows(self, X_internal) -> int:
        return len(X_internal)

    def _fit_generator(self, X_internal, codes: np.ndarray, seed: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _generate(self, codes: np.ndarray, seed: int):  # pragma: no cover
        raise NotImplementedError

    def _concat(self, X, X_new):  # pragma: no cover
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict]:  # pragma: no cover
        raise NotImplementedError

    def _set_state(self, state: dict, tensors: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------ shared parts
    def fit(self, X, y=None):
        """Learn a generative model of ``X``, conditioned on ``y`` when given.

        Parameters
        ----------
        X : array-like or DataFrame
            Training data (layout depends on the modality).
        y : array-like of shape (n_samples,), optional
            Class labels of any type. Without labels the model is
            unconditional and :meth:`sample` returns only ``X``.

        Returns
        -------
        self
        """
        X_internal = self._validate_X(X, reset=True)
        n = self._n_rows(X_internal)
        if n == 0:
            raise ValueError(f"{type(self).__name__}.fit got an empty X (0 rows)")
        if y is None:
            self.classes_ = None
            self.class_counts_ = np.array([n])
            self._label_format = None
            codes = np.zeros(n, dtype=np.int64)
        else:
            classes, codes, fmt = encode_labels(y, n)
            counts = np.bincount(codes, minlength=len(classes))
            small = np.flatnonzero(counts < self._min_class_size)
            if small.size:
                c = small[0]
                raise ValueError(
                    f"class {label_repr(classes[c])} has {counts[c]} row(s); {type(self).__name__} needs at least "
                    f"{self._min_class_size} rows per class to learn it (drop or merge that class)"
                )
            self.classes_ = classes
            self.class_counts_ = counts
            self._label_format = fmt
        seed = seed_from_random_state(self.random_state)
        self.seed_ = seed
        self._sample_rng = np.random.default_rng(seed)
        limit_threads()
        seed_everything(seed)
        try:
            self._fit_generator(X_internal, codes, seed)
        except BaseException:
            # a failed fit (NaN guard, interrupted run, bad input found late) leaves no half-fitted model
            # that sample() would happily draw NaN rows from
            with contextlib.suppress(AttributeError):
                del self.seed_
            raise
        return self

    @property
    def labelled_(self) -> bool:
        check_is_fitted(self, "seed_")
        return self.classes_ is not None

    def _fit_resample(self, X, y):  # imblearn's abstract hook; fit_resample is overridden whole
        return self.fit_resample(X, y)

    def fit_resample(self, X, y):
        """Fit, then add synthetic items until ``sampling_strategy`` is met.

        Parameters
        ----------
        X : array-like or DataFrame
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_resampled, y_resampled
            The original items first, unchanged and in order, then the
            synthetic ones grouped by class; same container types as the input
            (a DataFrame or Series gets a fresh RangeIndex, as in imbalanced-learn).
        """
        if y is None:
            raise ValueError("fit_resample needs class labels y; use fit(X) and sample(n) without labels")
        self._check_strategy_early(y)  # a strategy that cannot fit y is refused before the GAN trains
        self.fit(X, y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({label_repr(self.classes_[0])}); fit_resample balances classes and needs at least two"
            )
        y_values = self.classes_[np.repeat(np.arange(len(self.classes_)), self.class_counts_)]
        self.sampling_strategy_ = check_sampling_strategy(self.sampling_strategy, y_values, self._sampling_type)
        wanted = {k: int(v) for k, v in self.sampling_strategy_.items() if int(v) > 0}
        if not wanted:
            X_new, y_new = self._empty_sample()
        else:
            X_new, y_new = self.sample(wanted, random_state=self.seed_)
        y_original = squeeze_labels(y)
        if self._label_format.kind != "series":
            y_original = np.asarray(y_original)
        return self._concat(X, X_new), self._label_format.concat(y_original, y_new)

    #: the over-sampling strategies imbalanced-learn knows by name
    _STRATEGY_NAMES = ("auto", "minority", "not minority", "not majority", "all")

    def _check_strategy_early(self, y) -> None:
        """Refuse a ``sampling_strategy`` that does not fit ``y`` (unknown name, class or ratio).

        Only a well-formed ``y`` is checked here; anything else gets the precise
        label errors of :meth:`fit`.
        """
        if isinstance(self.sampling_strategy, str) and self.sampling_strategy not in self._STRATEGY_NAMES:
            raise ValueError(f"sampling_strategy={self.sampling_strategy!r} is not an over-sampling strategy; use one "
                             f"of {list(self._STRATEGY_NAMES)}, a float ratio, a dict {{class: count}} or a callable")
        try:
            labels = _label_array(squeeze_labels(y))
            ok = labels.ndim == 1 and not pd.isna(labels).any() and len(np.unique(labels.astype(str))) >= 2
            if ok:
                np.unique(labels)  # mixed types that cannot be sorted (2.0 and "1"): fit handles them
        except Exception:  # noqa: BLE001 - fit reports bad labels with a precise message
            ok = False
        if ok:
            check_sampling_strategy(self.sampling_strategy, labels, self._sampling_type)

    def _empty_sample(self):
        codes = np.zeros(0, dtype=np.int64)
        return self._generate(codes, self.seed_), self._label_format.build(self.classes_[codes])

    def _resolve_counts(self, n_samples) -> np.ndarray:
        n_classes = len(self.class_counts_)
        if isinstance(n_samples, dict):
            if not self.labelled_:
                raise ValueError("this augmenter was fitted without labels: pass an int to sample()")
            counts = np.zeros(n_classes, dtype=np.int64)
            index = {v: i for i, v in enumerate(self.classes_.tolist())}
            for label, count in n_samples.items():
                key = label.item() if isinstance(label, np.generic) else label
                if key not in index:
                    raise ValueError(
                        f"unknown class {label_repr(label)} in sample(); known classes: {self.classes_.tolist()}"
                    )
                if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
                    raise ValueError(f"count for class {label_repr(label)} must be a non-negative int, got {count!r}")
                counts[index[key]] += int(count)
            return counts
        if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)):
            raise TypeError(f"n_samples must be an int or a dict {{class: count}}, got {type(n_samples).__name__}")
        if n_samples < 0:
            raise ValueError(f"n_samples must be >= 0, got {n_samples}")
        return allocate_counts(int(n_samples), self.class_counts_)

    def sample(self, n_samples, random_state=None):
        """Generate synthetic items.

        Parameters
        ----------
        n_samples : int or dict
            An int draws that many items with the class mix seen in training;
            a dict ``{class: count}`` draws exact counts per class.
        random_state : int, optional
            Seed for this draw: the same seed gives the same items (also after
            ``save``/``load``). ``None`` continues the augmenter's own stream,
            so repeated calls differ but a fixed ``random_state`` at fit makes
            the sequence repeatable.

        Returns
        -------
        X_new : same container as ``X`` in fit
        y_new : same container as ``y`` in fit (only when fitted with labels)
        """
        check_is_fitted(self, "seed_")
        counts = self._resolve_counts(n_samples)
        seed = (
            int(self._sample_rng.integers(2**31 - 1)) if random_state is None else seed_from_random_state(random_state)
        )
        codes = np.repeat(np.arange(len(counts)), counts)
        limit_threads()
        X_new = self._generate(codes, seed)
        if not self.labelled_:
            return X_new
        return X_new, self._label_format.build(self.classes_[codes])

    # ------------------------------------------------------------- streaming
    def iter_samples(self, n_samples, chunk_size: int = 100_000, random_state=None):
        """Generate items in chunks, for more than fit in memory at once.

        Parameters
        ----------
        n_samples : int or dict
            As in :meth:`sample`.
        chunk_size : int, default=100000
            Items per yielded chunk; memory stays bounded by one chunk.
        random_state : int, optional
            Seed of the whole stream (the same seed gives the same chunks).

        Yields
        ------
        X_chunk or (X_chunk, y_chunk)
            Like :meth:`sample`, classes in order over the stream.

        Examples
        --------
        >>> from ganaug.augment.tabular import TabularAugmenter
        >>> from ganaug.datasets import load_default
        >>> X, y = load_default()
        >>> aug = TabularAugmenter(epochs=1, generator_dim=(32,), discriminator_dim=(32,), random_state=0)
        >>> aug = aug.fit(X[:2000], y[:2000])
        >>> [len(Xc) for Xc, yc in aug.iter_samples(2500, chunk_size=1000, random_state=0)]
        [1000, 1000, 500]
        """
        check_is_fitted(self, "seed_")
        if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        counts = self._resolve_counts(n_samples)
        seed = (
            int(self._sample_rng.integers(2**31 - 1)) if random_state is None else seed_from_random_state(random_state)
        )
        ends = np.cumsum(counts)
        starts = ends - counts
        total = int(ends[-1]) if len(ends) else 0
        seeds = np.random.default_rng(seed)
        limit_threads()
        for lo in range(0, total, int(chunk_size)):
            hi = min(total, lo + int(chunk_size))
            # items of each class inside [lo, hi), without building all codes of the stream
            per_class = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0, None)
            codes = np.repeat(np.arange(len(counts)), per_class)
            X_new = self._generate(codes, int(seeds.integers(2**31 - 1)))
            yield (X_new, self._label_format.build(self.classes_[codes])) if self.labelled_ else X_new

    def sample_to_file(self, path, n_samples, chunk_size: int = 100_000, random_state=None, target=None,
                       file_format: str | None = None):
        """Stream synthetic rows to a Parquet or CSV file, one chunk in memory at a time.

        Parameters
        ----------
        path : str or PathLike
            Output file. ``.parquet`` / ``.pq`` write Parquet (needs
            ``pyarrow``), ``.csv`` (also ``.csv.gz`` etc.) writes CSV. The
            file appears only when complete (written under a temporary name,
            then renamed).
        n_samples : int or dict
            As in :meth:`sample`.
        chunk_size : int, default=100000
            Rows generated and written per step; peak memory grows with it,
            not with ``n_samples``.
        random_state : int, optional
            Seed of the stream.
        target : str, optional
            Name of the label column added for a labelled model (default:
            the name of ``y`` at fit, else ``"target"``).
        file_format : {"parquet", "csv"}, optional
            Overrides the guess from the suffix.

        Returns
        -------
        int
            Rows written.

        Examples
        --------
        >>> import os, tempfile
        >>> from ganaug.augment.tabular import TabularAugmenter
        >>> from ganaug.datasets import load_hmda
        >>> X, y = load_hmda()
        >>> aug = TabularAugmenter(epochs=1, generator_dim=(16,), discriminator_dim=(16,), random_state=0)
        >>> aug = aug.fit(X[:500], y[:500])
        >>> path = os.path.join(tempfile.mkdtemp(), "synthetic.csv")
        >>> aug.sample_to_file(path, 2500, chunk_size=1000, random_state=0)
        2500
        """
        import os
        from pathlib import Path

        import pandas as pd

        out = Path(path)
        fmt = file_format
        if fmt is None:
            suffixes = [s.lower() for s in out.suffixes]
            if suffixes and suffixes[-1] in (".parquet", ".pq"):
                fmt = "parquet"
            elif ".csv" in suffixes:
                fmt = "csv"
            else:
                raise ValueError(f"cannot tell the file format of {str(out)!r}: use a .parquet or .csv suffix, "
                                 "or file_format='parquet'/'csv'")
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"file_format must be 'parquet' or 'csv', got {fmt!r}")
        if fmt == "parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:  # pragma: no cover - pyarrow is a test dependency
                raise ImportError("writing Parquet needs pyarrow (pip install pyarrow), or write a .csv file") from None
        if out.exists() and out.is_dir():
            raise ValueError(f"cannot write samples to {str(out)!r}: it is a directory")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"target must be a column name (str), got {type(target).__name__}")
        check_is_fitted(self, "seed_")
        label_name = None
        if self.labelled_:
            fitted_name = getattr(self._label_format, "name", None)
            label_name = target or (str(fitted_name) if fitted_name is not None else "target")
        tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
        written, writer, schema = 0, None, None
        try:
            for chunk in self.iter_samples(n_samples, chunk_size=chunk_size, random_state=random_state):
                X_new, y_new = chunk if self.labelled_ else (chunk, None)
                frame = _as_table(X_new)
                if label_name is not None:
                    if label_name in frame.columns:
                        raise ValueError(f"label column name {label_name!r} clashes with a feature column; "
                                         "pass another target=")
                    frame = frame.assign(**{label_name: np.asarray(y_new)})
                if fmt == "csv":
                    frame.to_csv(tmp, mode="w" if written == 0 else "a", header=written == 0, index=False)
                else:
                    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
                    if writer is None:
                        schema = table.schema
                        writer = pq.ParquetWriter(str(tmp), schema)
                    writer.write_table(table)
                written += len(frame)
            if writer is not None:
                writer.close()
                writer = None
            if written == 0:  # an empty request still gives a readable, empty file
                self._empty_file(tmp, fmt, label_name)
            os.replace(tmp, out)
        finally:
            if writer is not None:
                writer.close()
            if tmp.exists():
                tmp.unlink()
        return written

    def _empty_file(self, tmp, fmt: str, label_name) -> None:
        frame = _as_table(self._generate(np.zeros(0, dtype=np.int64), self.seed_))
        if label_name is not None:
            frame[label_name] = self._label_format.build(self.classes_[np.zeros(0, dtype=np.int64)])
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)

    # ------------------------------------------------------ training plumbing
    def _train(self, module, train_loader, val_loader=None, callbacks: list | None = None,
               max_epochs: int | None = None) -> Any:
        """Fit a LightningModule with the user's ``trainer`` settings; returns the Trainer.

        ``max_epochs`` defaults to ``self.epochs`` (a modality with pre-training
        phases passes its total).
        """
        epochs = self.epochs if max_epochs is None else max_epochs
        settings, fit_kwargs = self.trainer, {}
        if isinstance(settings, dict) and ("ckpt_path" in settings or "weights_only" in settings):
            # Trainer.fit arguments (resume from a checkpoint, see ganaug.core.checkpoint.resumable_trainer)
            settings = dict(settings)
            fit_kwargs = {k: settings.pop(k) for k in ("ckpt_path", "weights_only") if k in settings}
        trainer = build_trainer(settings, max_epochs=epochs, callbacks=callbacks)
        with quiet_lightning():
            trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader, **fit_kwargs)
        self.history_ = list(getattr(module, "history", []))
        return trainer

    # ------------------------------------------------------------ persistence
    def _json_params(self) -> dict:
        params = {}
        for name, value in self.get_params(deep=False).items():
            if name in self._unsaved_params or callable(value):
                params[name] = None
                continue
            params[name] = to_jsonable(value)
        return params

    def save(self, path) -> None:
        """Save the fitted augmenter to a directory (JSON + safetensors, no pickle).

        ``trainer`` and callable parameters are not saved (stored as null).
        """
        check_is_fitted(self, "seed_")
        config, tensors = self._saved_config(history=True)
        save_model_dir(path, {"class": f"{type(self).__module__}.{type(self).__qualname__}", **config}, tensors)

    def _saved_config(self, history: bool) -> tuple[dict, dict]:
        """The fitted augmenter as ``({"params", "fitted", "state"}, tensors)``: what :meth:`save` writes."""
        state, tensors = self._get_state()
        fitted = {
            "seed": self.seed_,
            "classes": None if self.classes_ is None else classes_to_json(self.classes_),
            "class_counts": self.class_counts_.tolist(),
            "label_format": None if self._label_format is None else self._label_format.to_json(),
        }
        if history:
            fitted["history"] = to_jsonable(getattr(self, "history_", []))
        return {"params": self._json_params(), "fitted": fitted, "state": state}, tensors

    @classmethod
    def _from_saved_config(cls, config: dict, tensors: dict):
        """Inverse of :meth:`_saved_config`: a fitted ``cls`` (``ModelFormatError`` when the parameters do not fit)."""
        params = {k: v for k, v in config["params"].items() if v is not None or k in cls._unsaved_params}
        params = {**{k: v for k, v in cls._params_added_later.items() if k not in config["params"]}, **params}
        try:
            est = cls(**params)
        except TypeError as exc:
            raise ModelFormatError(f"saved parameters do not match {cls.__name__}: {exc}") from None
        fitted = config["fitted"]
        est.seed_ = int(fitted["seed"])
        est._sample_rng = np.random.default_rng(est.seed_)
        est.classes_ = None if fitted["classes"] is None else classes_from_json(fitted["classes"])
        est.class_counts_ = np.asarray(fitted["class_counts"], dtype=np.int64)
        est._label_format = None if fitted["label_format"] is None else LabelFormat.from_json(fitted["label_format"])
        est.history_ = fitted.get("history", [])
        est._set_state(config["state"], tensors)
        return est

    @classmethod
    def load(cls, path):
        """Load an augmenter saved with :meth:`save`; refuses altered or incompatible files."""
        config, tensors = load_model_dir(path)
        detector = config.get("estimator")
        if cls is BaseAugmenter and detector in ("GANAnomalyDetector", "FewLabelAnomalyDetector"):
            # ganaug.load also reads the anomaly detectors (their own loaders check the files again)
            module = "ganaug.anomaly.detector" if detector == "GANAnomalyDetector" else "ganaug.anomaly.fewlabel"
            return getattr(importlib.import_module(module), detector).load(path)
        name = config.get("class")
        target = _REGISTRY.get(name)
        if target is None:
            # the class may live in a module not imported yet: import only ganaug modules
            module_name = str(name).rsplit(".", 1)[0]
            if module_name.startswith("ganaug."):
                with contextlib.suppress(ImportError):
                    importlib.import_module(module_name)
            target = _REGISTRY.get(name)
        if target is None:
            raise ModelFormatError(f"model in {str(path)!r} is of unknown class {name!r}")
        if cls is not BaseAugmenter and not issubclass(target, cls):
            raise ModelFormatError(f"model in {str(path)!r} is a {target.__name__}, not a {cls.__name__}")
        return target._from_saved_config(config, tensors)
