"""``backend="ctgan"``: the classic ``ctgan.CTGAN`` behind ganaug's augmenter API.

ctgan is licensed BUSL-1.1, so it is an optional extra (``pip install
ganaug[ctgan]``) and is imported only inside these functions, never when
ganaug is imported. What ganaug adds around it:

* the class label becomes one more discrete column and rows of class ``c``
  are drawn with CTGAN's conditional sampling on that column, keeping only
  rows that came out with label ``c`` (a few rounds of rejection, vectorised);
* CTGAN refuses missing values in numeric columns: they are filled with the
  column median and a ``<name>__missing`` discrete indicator column is added,
  from which NaN is put back after sampling;
* generated columns are cast back to the input's dtypes and order.

A CTGAN model cannot be saved without pickle, so ``save`` is refused for
this backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["fit_ctgan", "sample_ctgan"]

_TARGET = "__ganaug_class__"


def _import_ctgan():
    try:
        from ctgan import CTGAN
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "backend='ctgan' needs the optional ctgan package (BUSL-1.1 licence): pip install 'ganaug[ctgan]'"
        ) from None
    return CTGAN


def fit_ctgan(frame: pd.DataFrame, codes: np.ndarray, seed: int, *, epochs: int, batch_size: int, pac: int,
              embedding_dim: int, generator_dim, discriminator_dim, lr_g: float, lr_d: float, n_critic: int,
              discrete_threshold: int, use_gpu: bool = False):
    """Fit ``ctgan.CTGAN`` on ``frame`` plus the class column; returns ``(model, meta)``."""
    import torch

    CTGAN = _import_ctgan()
    df = pd.DataFrame(index=frame.index)
    discrete: list[str] = []
    meta: dict = {"columns": list(frame.columns), "dtypes": frame.dtypes.to_dict(), "missing": {}, "names": {}}
    for i, (name, s) in enumerate(frame.items()):
        key = f"c{i}"
        meta["names"][key] = name
        numeric = (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)) or \
            pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype)
        if numeric:
            values = pd.to_numeric(s.astype("int64") if not pd.api.types.is_numeric_dtype(s.dtype) else s,
                                   errors="coerce").astype(np.float64)
            miss = values.isna().to_numpy() | pd.isna(s).to_numpy()
            values[miss] = np.nan
            if values.nunique() <= discrete_threshold:
                df[key] = values.astype(object).where(~miss, "__nan__").astype(str)
                discrete.append(key)
                continue
            if miss.any():
                df[key] = values.fillna(values.median())
                df[key + "__missing"] = np.where(miss, "yes", "no")
                discrete.append(key + "__missing")
                meta["missing"][key] = key + "__missing"
            else:
                df[key] = values
        else:
            df[key] = s.astype(object).where(s.notna(), "__nan__").astype(str)
            discrete.append(key)
    df[_TARGET] = codes.astype(str)
    discrete.append(_TARGET)
    bs = max(pac, (int(batch_size) // pac) * pac)
    model = CTGAN(
        embedding_dim=embedding_dim, generator_dim=tuple(generator_dim), discriminator_dim=tuple(discriminator_dim),
        generator_lr=lr_g, discriminator_lr=lr_d, discriminator_steps=n_critic, batch_size=bs, epochs=int(epochs),
        pac=pac, verbose=False, enable_gpu=use_gpu,
    )
    model.set_random_state(seed)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    model.fit(df, discrete)
    return model, meta


def _cast(values: pd.Series, original: pd.Series | None, dtype) -> object:
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        lookup = {str(c): c for c in cats}
        mapped = values.astype(str).map(lookup)
        return pd.Categorical(mapped, dtype=dtype)
    if pd.api.types.is_bool_dtype(dtype):
        mapped = values.astype(str).map({"True": True, "False": False, "1": True, "0": False, "1.0": True,
                                          "0.0": False})
        return mapped.astype(dtype) if not isinstance(dtype, pd.BooleanDtype) else mapped.astype("boolean")
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        ns = pd.to_numeric(values, errors="coerce").round()
        if pd.api.types.is_datetime64_any_dtype(dtype):
            out = pd.to_datetime(ns, unit="ns", utc=getattr(dtype, "tz", None) is not None)
            if getattr(dtype, "tz", None) is not None:
                out = out.dt.tz_convert(dtype.tz)
        else:
            out = pd.to_timedelta(ns, unit="ns")
        return out.astype(dtype).array
    if pd.api.types.is_numeric_dtype(dtype):
        num = pd.to_numeric(values.replace("__nan__", np.nan), errors="coerce")
        if pd.api.types.is_integer_dtype(dtype):
            if isinstance(dtype, pd.api.extensions.ExtensionDtype):
                return num.round().astype(dtype).array
            return num.fillna(num.median() if num.notna().any() else 0).round().astype(dtype).to_numpy()
        return num.astype(dtype).to_numpy() if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else num.astype(dtype).array
    out = values.astype(object)
    out[out == "__nan__"] = np.nan
    if isinstance(dtype, pd.StringDtype):
        return out.astype(dtype).array
    return out.to_numpy()


def sample_ctgan(model, meta: dict, codes: np.ndarray, seed: int, max_rounds: int = 20) -> pd.DataFrame:
    """Rows for the class ``codes`` (grouped as given), in the layout of the training frame."""
    import torch

    model.set_random_state(seed)
    torch.manual_seed(seed)
    parts = {}
    for c in np.unique(codes):
        need = int((codes == c).sum())
        got: list[pd.DataFrame] = []
        have = 0
        for _ in range(max_rounds):
            batch = model.sample(max(need - have, 1) * 2 + 10, condition_column=_TARGET, condition_value=str(c))
            batch = batch[batch[_TARGET].astype(str) == str(c)]
            got.append(batch)
            have += len(batch)
            if have >= need:
                break
        rows = pd.concat(got, ignore_index=True) if got else pd.DataFrame()
        if len(rows) < need:  # CTGAN rarely produced this class: keep its conditional rows anyway
            extra = model.sample(need - len(rows), condition_column=_TARGET, condition_value=str(c))
            rows = pd.concat([rows, extra], ignore_index=True)
        parts[int(c)] = rows.iloc[:need]
    if len(codes):
        order = np.argsort(codes, kind="stable")
        stacked = pd.concat([parts[int(c)] for c in np.unique(codes)], ignore_index=True)
        ordered = stacked.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    else:
        ordered = pd.DataFrame(columns=list(meta["names"]))
    out = {}
    for key, name in meta["names"].items():
        values = ordered[key] if key in ordered else pd.Series([], dtype=object)
        if key in meta["missing"]:
            miss = ordered[meta["missing"][key]].astype(str).to_numpy() == "yes"
            values = values.astype(np.float64).where(~miss, np.nan)
        out[name] = _cast(values.reset_index(drop=True), None, meta["dtypes"][name])
    df = pd.DataFrame(out, index=pd.RangeIndex(len(codes)))
    df.columns = pd.Index(meta["columns"])
    return df
