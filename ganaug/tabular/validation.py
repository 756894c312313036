"""Model selection on usefulness: keep the epoch whose synthetic rows help a classifier most.

GAN losses say little about whether the synthetic rows are *useful*. With
``TabularAugmenter(validation="tstr")`` a stratified share of the real rows is
held out from GAN training; every ``interval`` epochs the current generator
makes a synthetic table, a small gradient-boosting classifier is trained on
it and scored on the held-out real rows (average precision of the
non-majority classes). The best-scoring weights are kept (checkpoint
selection) and training stops when the score has not improved for
``patience`` checks (early stopping).

* ``"tstr"`` (train on synthetic, test on real): the classifier sees only
  synthetic rows, so the score measures how well they carry the classes'
  structure.
* ``"augmented"``: the classifier sees the real training rows plus synthetic
  rows of the non-majority classes up to the majority's count, which is what
  ``fit_resample`` gives a downstream model.
"""

from __future__ import annotations

import copy

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from ganaug.tabular.transformer import TabularTransformer

__all__ = ["UtilityCheckpoint", "utility_score"]


def utility_score(
    X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, categorical: np.ndarray,
    n_classes: int, seed: int,
) -> float:
    """Mean average precision, over the non-majority classes, of a small HGB trained on ``X_train``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.tabular.validation import utility_score
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > 1).astype(int)
    >>> utility_score(X[:300], y[:300], X[300:], y[300:], np.array([False, False]), 2, 0) > 0.9
    True
    """
    present = np.unique(y_train)
    if present.size < 2:
        return 0.0
    counts = np.bincount(y_val, minlength=n_classes)
    majority = int(np.argmax(counts))
    clf = HistGradientBoostingClassifier(
        max_iter=60, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False,
        categorical_features=categorical if categorical.any() else None, random_state=seed,
    )
    clf.fit(X_train, y_train)
    proba = clf.predict_proba(X_val)
    col = {int(c): i for i, c in enumerate(clf.classes_)}
    scores = []
    for c in range(n_classes):
        if c == majority or counts[c] == 0:
            continue
        p = proba[:, col[c]] if c in col else np.zeros(len(y_val))
        scores.append(average_precision_score(y_val == c, p))
    return float(np.mean(scores)) if scores else 0.0


class UtilityCheckpoint(pl.Callback):
    """Lightning callback: score the generator's usefulness, keep the best weights, stop early.

    Parameters
    ----------
    make_rows : callable
        ``make_rows(module, classes, seed) -> encoded rows`` (one per class code).
    transformer : TabularTransformer
    X_fit_features, y_fit : ndarray
        Real training rows (feature view) and class codes (used by ``"augmented"``).
    X_val_features, y_val : ndarray
        Held-out real rows (feature view) and class codes.
    n_classes : int
    mode : {"tstr", "augmented"}
    interval : int
        Epochs between checks (the last epoch is always checked).
    patience : int
        Checks without improvement before training stops.
    seed : int
    """

    def __init__(self, make_rows, transformer: TabularTransformer, X_fit_features, y_fit, X_val_features, y_val,
                 n_classes: int, mode: str = "tstr", interval: int = 10, patience: int = 3, seed: int = 0,
                 max_rows: int = 10_000) -> None:
        super().__init__()
        if mode not in ("tstr", "augmented"):
            raise ValueError(f"validation mode must be 'tstr' or 'augmented', got {mode!r}")
        self.make_rows = make_rows
        self.transformer = transformer
        self.X_fit, self.y_fit = X_fit_features, np.asarray(y_fit)
        self.X_val, self.y_val = X_val_features, np.asarray(y_val)
        self.n_classes = int(n_classes)
        self.mode = mode
        self.interval = max(1, int(interval))
        self.patience = max(1, int(patience))
        self.seed = int(seed)
        self.max_rows = int(max_rows)
        self.scores: list[tuple[int, float]] = []
        self.best_score = -np.inf
        self.best_epoch = -1
        self._best_state: dict | None = None
        self._bad = 0

    def _synthetic_codes(self) -> np.ndarray:
        counts = np.bincount(self.y_fit, minlength=self.n_classes)
        if self.mode == "tstr":
            n = min(len(self.y_fit), self.max_rows)
            want = np.maximum(1, np.round(counts / counts.sum() * n)).astype(np.int64)
        else:
            want = counts.max() - counts
        return np.repeat(np.arange(self.n_classes), want)

    def evaluate(self, module) -> float:
        codes = self._synthetic_codes()
        check = len(self.scores)
        rows = self.make_rows(module, codes, self.seed + 7919 * (check + 1))
        X_syn = self.transformer.encoded_features(rows)
        if self.mode == "tstr":
            X_train, y_train = X_syn, codes
        else:
            X_train = np.concatenate([self.X_fit, X_syn])
            y_train = np.concatenate([self.y_fit, codes])
        return utility_score(X_train, y_train, self.X_val, self.y_val, self.transformer.categorical_mask,
                             self.n_classes, self.seed)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch
        last = trainer.max_epochs is not None and epoch + 1 >= trainer.max_epochs
        if (epoch + 1) % self.interval and not last:
            return
        score = self.evaluate(pl_module)
        self.scores.append((epoch + 1, score))
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch + 1
            self._best_state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
            self._bad = 0
        else:
            self._bad += 1
            if self._bad >= self.patience:
                trainer.should_stop = True

    def on_train_end(self, trainer, pl_module) -> None:
        if self._best_state is not None:
            pl_module.load_state_dict(copy.copy(self._best_state))

    def state_dict(self) -> dict:
        return {"scores": self.scores, "best_score": self.best_score, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.scores = [tuple(s) for s in state_dict.get("scores", [])]
        self.best_score = state_dict.get("best_score", -np.inf)
        self.best_epoch = state_dict.get("best_epoch", -1)


def _rows_with_generator(module, codes: np.ndarray, sampler, seed: int) -> np.ndarray:
    """Encoded rows for class ``codes`` from ``module`` with conditions from ``sampler``."""
    rng = np.random.default_rng(seed)
    cats = sampler.sample_conditions(codes, rng)
    gen = torch.Generator().manual_seed(int(seed))
    return module.sample_rows(torch.as_tensor(codes), torch.as_tensor(cats), generator=gen).numpy()
