"""Multi-process training: DDP with 2 CPU processes (gloo) through the augmenter's ``trainer`` argument."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]

# Lightning's "ddp" strategy re-runs the launching script for every extra process, so the fit runs
# in a script of its own (as it would in a user's training job), not inside pytest.
SCRIPT = textwrap.dedent(
    """
    import os, sys
    import pandas as pd
    from ganaug.augment.tabular import TabularAugmenter

    out = sys.argv[1]
    df = pd.read_csv(sys.argv[2]).iloc[:600]
    y = df.pop("deny")
    aug = TabularAugmenter(epochs=2, batch_size=100, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,),
                           pac=5, random_state=0,
                           trainer={"accelerator": "cpu", "devices": 2, "strategy": "ddp",
                                    "enable_progress_bar": False})
    aug.fit(df, y)
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    aug.save(os.path.join(out, f"rank{rank}"))   # each process saves its own copy (a user saves on rank 0)
    print(f"rank {rank} steps {len(aug.history_)}", flush=True)
    """
)


@pytest.mark.slow
def test_ddp_two_cpu_processes_train_one_synchronised_model(tmp_path, shared_data):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANAUG_PROGRESS": "0",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("LOCAL_RANK", None)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path), str(shared_data / "tabular" / "HMDA.csv")],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "rank 0 steps" in proc.stdout and "rank 1 steps" in proc.stdout, proc.stdout

    from ganaug.augment.base import BaseAugmenter

    models = [BaseAugmenter.load(tmp_path / f"rank{r}") for r in (0, 1)]
    # each process saw half of the batches (DistributedSampler): 600 rows / 100 = 6 steps per epoch -> 3 per rank
    assert len(models[0].history_) == len(models[1].history_) == 2 * 3
    # gradients were all-reduced: both processes end with identical parameters (the EMA copy included).
    # Buffers are per process: batch-norm running statistics (unless trainer sync_batchnorm=True) and the
    # marginal calibration (logit_bias), fitted after training by each process on its own draws.
    w0, w1 = ({k: v.detach() for k, v in m.module_.named_parameters()} for m in models)
    trained = list(w0)
    assert any(k.startswith("generator_ema.") for k in trained) and len(trained) > 10
    for name in trained:
        assert np.array_equal(w0[name].numpy(), w1[name].numpy()), f"{name} differs between the two processes"
    X_new, y_new = models[0].sample({"yes": 50, "no": 10}, random_state=0)
    assert isinstance(X_new, pd.DataFrame) and len(X_new) == 60
    assert X_new.select_dtypes("number").notna().all().all()
    assert (pd.Series(y_new).value_counts().to_dict()) == {"yes": 50, "no": 10}


def test_ddp_strategy_names_get_unused_parameter_detection():
    """A GAN step leaves one network without gradients; plain DDP would stop with 'unused parameters'."""
    from ganaug.core.trainer import build_trainer

    trainer = build_trainer({"accelerator": "cpu", "devices": 1, "strategy": "ddp", "enable_progress_bar": False},
                            max_epochs=1)
    assert trainer.strategy._ddp_kwargs.get("find_unused_parameters") is True


def test_cli_sample_writes_rows(tmp_path, shared_data):
    from ganaug.augment.tabular import TabularAugmenter
    from ganaug.cli import main
    from tests.reliability._fuzz import TINY_TAB

    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").iloc[:200]
    y = df.pop("deny")
    TabularAugmenter(**TINY_TAB).fit(df, y).save(tmp_path / "m")
    assert main(["sample", str(tmp_path / "m"), "--class", "yes=7", "-o", str(tmp_path / "o.csv")]) == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert len(out) == 7 and (out["deny"] == "yes").all()
