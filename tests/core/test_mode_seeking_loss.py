import pytest
import torch

from ganaug.core.losses import mode_seeking_loss


def test_pairs_only_samples_of_the_same_label():
    z = torch.tensor([[0.0], [1.0], [0.0], [1.0]])
    fake = torch.tensor([[0.0], [5.0], [0.0], [5.0]])
    # label 0: samples 0 and 2 have equal z and equal images -> ratio 0/eps, capped by eps in the denominator
    labels = torch.tensor([0, 1, 0, 1])
    value = float(mode_seeking_loss(fake, z, labels))
    assert value > 1e4
    # pairs across labels would look diverse: unlabelled pairing (0,1), (1,2), (2,3) gives ratio 5
    assert float(mode_seeking_loss(fake, z)) == pytest.approx(1 / (5 + 1e-5), rel=1e-4)


def test_gradient_pushes_outputs_apart_and_edge_cases():
    z = torch.randn(6, 4)
    w = torch.full((4, 3), 0.01, requires_grad=True)
    loss = mode_seeking_loss(z @ w, z, torch.tensor([0, 0, 0, 1, 1, 1]))
    loss.backward()
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
    assert float(mode_seeking_loss(torch.zeros(3, 2), z[:3], torch.tensor([0, 1, 2]))) == 0.0
    assert float(mode_seeking_loss(torch.zeros(1, 2), z[:1])) == 0.0
    with pytest.raises(ValueError, match="same length"):
        mode_seeking_loss(torch.zeros(3, 2), z)
