"""Marginal calibration of a trained tabular generator, per class.

A GAN gets the *dependence* between columns roughly right but its one-column
marginals are often a little off (a mode drawn too often, a missing rate too
high, a mean shifted by a tenth of a standard deviation). Downstream linear
models are sensitive exactly to those class-conditional marginals. After
training, two corrections are fitted per class on a reference sample of the
generator (Sklar: a joint distribution is its marginals plus a copula; the
GAN keeps the copula, the data give the marginals):

1. **One-hot blocks** (levels of discrete columns, modes and missing slots of
   continuous columns): an additive bias on the generator's logits,
   ``log((p_real + eps) / (p_synthetic + eps))``, refined over a few rounds,
   so each level's frequency within the class matches the training rows.
2. **Continuous values**: a monotone piecewise-linear map from the
   generator's quantiles to the training quantiles of the class (every 5 %
   plus denser nodes in the tails: a coarse grid, so the model stores
   quantiles, not training rows), applied before clipping and rounding.

Both act at sampling time only; training is unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["MarginalCalibration"]


class MarginalCalibration:
    """Per-class logit biases and quantile maps, fitted from real rows and a reference sample.

    Attributes
    ----------
    nodes_synthetic, nodes_real : ndarray of shape (n_classes, n_continuous, n_quantiles)
        Quantile map of each continuous column within each class.
    columns : list of int
        Transformer column index of each continuous column.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.tabular.calibration import MarginalCalibration
    >>> cal = MarginalCalibration.identity(n_classes=1, columns=[0], n_quantiles=3)
    >>> cal.nodes_synthetic[0, 0] = [0.0, 1.0, 2.0]; cal.nodes_real[0, 0] = [0.0, 10.0, 20.0]
    >>> cal.map_values(0, np.array([0.5, 1.5]), np.zeros(2, int)).tolist()
    [5.0, 15.0]
    """

    def __init__(self, columns: list[int], nodes_synthetic: np.ndarray, nodes_real: np.ndarray) -> None:
        self.columns = [int(c) for c in columns]
        self.nodes_synthetic = np.asarray(nodes_synthetic, dtype=np.float64)
        self.nodes_real = np.asarray(nodes_real, dtype=np.float64)
        self._index = {c: i for i, c in enumerate(self.columns)}

    @classmethod
    def identity(cls, n_classes: int, columns: list[int], n_quantiles: int = 21) -> "MarginalCalibration":
        grid = np.tile(np.linspace(0, 1, n_quantiles), (n_classes, len(columns), 1))
        return cls(columns, grid, grid.copy())

    # ---------------------------------------------------------------- mapping
    def map_values(self, column: int, x: np.ndarray, codes: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
        """Map one continuous column's decoded values ``x`` of rows with class ``codes``."""
        j = self._index.get(int(column))
        if j is None:
            return x
        out = np.array(x, dtype=np.float64, copy=True)
        ok = np.ones(len(out), dtype=bool) if missing is None else ~np.asarray(missing)
        for c in np.unique(codes[ok]):  # a loop over classes
            rows = ok & (codes == c)
            out[rows] = np.interp(out[rows], self.nodes_synthetic[c, j], self.nodes_real[c, j])
        return out

    def value_map(self, codes: np.ndarray):
        """A ``value_map`` for :meth:`TabularTransformer.inverse_from_parts` for rows of class ``codes``."""
        return lambda column, x, missing: self.map_values(column, x, codes, missing)

    # -------------------------------------------------------------------- fit
    @classmethod
    def fit(cls, module, transformer, sampler, real_encoded: np.ndarray, real_features: np.ndarray,
            real_codes: np.ndarray, n_classes: int, seed: int, n_reference: int = 3000, rounds: int = 3,
            n_quantiles: int = 21) -> "MarginalCalibration":
        """Set ``module.logit_bias`` and return the quantile maps.

        Parameters
        ----------
        module : TabularGAN
            The trained module; its ``logit_bias`` buffer is overwritten.
        transformer : TabularTransformer
        sampler : ConditionalSampler
            Draws the generation conditions of the reference sample.
        real_encoded : ndarray (n, output_dim)
            Encoded training rows (one-hot frequencies per class).
        real_features : ndarray (n, n_columns)
            :meth:`TabularTransformer.feature_matrix` of the training rows
            (continuous values per class).
        real_codes : ndarray (n,)
            Class codes of the training rows.
        """
        rng = np.random.default_rng(seed)
        soft = np.zeros(transformer.output_dim, dtype=bool)
        for span in transformer.spans:
            if span.kind == "softmax":
                soft[span.start : span.start + span.width] = True
        counts = np.bincount(real_codes, minlength=n_classes).astype(np.float64)
        p_real = np.zeros((n_classes, transformer.output_dim))
        np.add.at(p_real, real_codes, real_encoded)
        p_real /= np.maximum(counts, 1.0)[:, None]
        codes = np.repeat(np.arange(n_classes), n_reference)
        bias = module.logit_bias.detach().cpu().numpy().astype(np.float64)
        bias[:, ~soft] = 0.0
        parts = None
        for r in range(rounds + 1):
            module.logit_bias.copy_(torch.as_tensor(bias, dtype=module.logit_bias.dtype))
            gen = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
            cats = sampler.sample_conditions(codes, rng)
            alpha, choice = module.sample_rows(torch.as_tensor(codes), torch.as_tensor(cats), generator=gen, parts=True)
            parts = (alpha.numpy(), choice.numpy())
            if r == rounds:
                break
            one_hot = _one_hot_from_choice(transformer, parts[1])
            p_syn = np.zeros((n_classes, transformer.output_dim))
            np.add.at(p_syn, codes, one_hot)
            p_syn /= n_reference
            eps = 0.5 / np.maximum(counts, 1.0)[:, None]
            step = np.log((p_real[:, soft] + eps) / (p_syn[:, soft] + eps))
            bias[:, soft] = np.clip(bias[:, soft] + step, -8.0, 8.0)
        # quantile maps of the continuous columns, on the calibrated reference sample; denser nodes in the
        # tails, so that the few rows beyond the last inner node are not spread out to the class's extreme
        inner = np.linspace(0.05, 0.95, max(n_quantiles - 8, 2))
        probs = np.concatenate([[0.0, 0.005, 0.01, 0.025], inner, [0.975, 0.99, 0.995, 1.0]])
        columns = transformer.continuous_columns
        syn_nodes = np.tile(probs, (n_classes, len(columns), 1))
        n_quantiles = len(probs)
        real_nodes = syn_nodes.copy()
        decoded = transformer.decoded_continuous(*parts)
        for j, (col_idx, x, miss) in enumerate(decoded):
            for c in range(n_classes):  # a loop over classes
                syn = x[(codes == c) & ~miss]
                real = real_features[real_codes == c, col_idx]
                real = real[~np.isnan(real)]
                if syn.size < 2 or real.size < 2:
                    lo, hi = (float(np.nanmin(x)), float(np.nanmax(x))) if x.size else (0.0, 1.0)
                    syn_nodes[c, j] = real_nodes[c, j] = np.linspace(lo, hi, n_quantiles)
                    continue
                syn_nodes[c, j] = _strictly_increasing(np.quantile(syn, probs))
                real_nodes[c, j] = np.quantile(real, probs)
        return cls(columns, syn_nodes, real_nodes)

    # ------------------------------------------------------------ persistence
    def get_state(self) -> tuple[dict, dict]:
        return ({"columns": self.columns},
                {"calibration.synthetic": torch.as_tensor(self.nodes_synthetic),
                 "calibration.real": torch.as_tensor(self.nodes_real)})

    @classmethod
    def from_state(cls, state: dict, tensors: dict) -> "MarginalCalibration":
        return cls(state["columns"], tensors["calibration.synthetic"].numpy(), tensors["calibration.real"].numpy())


def _strictly_increasing(q: np.ndarray) -> np.ndarray:
    """Quantile nodes with ties broken by tiny steps (``np.interp`` needs increasing nodes)."""
    scale = max(float(np.abs(q).max()), 1.0)
    return np.maximum.accumulate(q + np.arange(len(q)) * scale * 1e-12)


def _one_hot_from_choice(transformer, choice: np.ndarray) -> np.ndarray:
    """Encoded one-hot positions of the chosen index of every softmax span (scalars left at 0)."""
    out = np.zeros((len(choice), transformer.output_dim))
    rows = np.arange(len(choice))
    soft_spans = [s for s in transformer.spans if s.kind == "softmax"]
    for j, span in enumerate(soft_spans):  # a loop over spans
        out[rows, span.start + choice[:, j]] = 1.0
    return out
