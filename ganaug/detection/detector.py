"""``CenterNetDetector``: a small anchor-free detector (CenterNet-style) that trains on a CPU.

Objects are points: the network predicts, on a grid of stride 4, a heatmap per
class (peaks at box centres), the box size and the sub-cell offset of the
centre (Zhou et al., "Objects as Points", 2019). Training uses the penalty-
reduced focal loss on Gaussian-splatted centres and L1 losses on size and
offset; decoding keeps 3x3 local maxima of the heatmap. No anchors, no NMS.
It exists to measure augmentation on detection data; it is not a
state-of-the-art detector.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ganaug.utils import seed_from_random_state

__all__ = ["CenterNetDetector"]

STRIDE = 4


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _CenterNet(nn.Module):
    def __init__(self, channels: int, n_classes: int, width: int) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(  # stride 4 early; dilated 3x3 layers give a ~40-pixel receptive field
            _block(channels, w // 2, 2),
            _block(w // 2, w, 2),
            _block(w, w, 1, 1),
            _block(w, w, 1, 2),
            _block(w, w, 1, 4),
        )
        self.head = nn.Sequential(nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(w, n_classes + 4, 1))
        with torch.no_grad():  # heatmap starts at p = 0.01 (as in CenterNet / RetinaNet)
            self.head[-1].bias[:n_classes].fill_(-4.6)
        self.n_classes = n_classes

    def forward(self, x):
        out = self.head(self.body(x))
        return out[:, :self.n_classes], out[:, self.n_classes:]


def _focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss (alpha 2, beta 4), summed over the map, per object."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg_w = (1 - target).pow(4)
    pos_loss = -(torch.log(p) * (1 - p).pow(2) * pos).sum()
    neg_loss = -(torch.log(1 - p) * p.pow(2) * neg_w * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


class CenterNetDetector:
    """A small CenterNet-style detector with a scikit-learn-like ``fit`` / ``predict``.

    Parameters
    ----------
    n_classes : int
        Class ids are ``0 .. n_classes - 1``.
    steps : int, default=600
        Adam steps (a fixed budget, whatever the data size).
    batch_size : int, default=32
    lr : float, default=2e-3
        Adam learning rate (cosine decay to 5% over the steps).
    width : int, default=32
        Channels of the network (time grows about quadratically).
    size_weight : float, default=0.1
        Weight of the L1 size loss (in output-grid cells).
    max_detections : int, default=50
        Detections kept per image.
    random_state : int, optional
        Seed of initialisation and batches.

    Examples
    --------
    >>> from ganaug.datasets import load_mnist
    >>> from ganaug.detection import CenterNetDetector, make_digit_scenes
    >>> X, y = load_mnist()
    >>> images, targets, _ = make_digit_scenes(X[:500], y[:500], 32, random_state=0)
    >>> det = CenterNetDetector(n_classes=10, steps=2, batch_size=8, width=8, random_state=0).fit(images, targets)
    >>> pred = det.predict(images[:2])
    >>> sorted(pred[0]), pred[0]["boxes"].shape[1]
    (['boxes', 'labels', 'scores'], 4)
    """

    def __init__(self, n_classes: int, steps: int = 600, batch_size: int = 32, lr: float = 2e-3, width: int = 32,
                 size_weight: float = 0.1, max_detections: int = 50, random_state=None):
        self.n_classes = n_classes
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.width = width
        self.size_weight = size_weight
        self.max_detections = max_detections
        self.random_state = random_state

    # ------------------------------------------------------------------ data
    @staticmethod
    def _to_tensor(images) -> torch.Tensor:
        """(N, H, W) / (N, H, W, C) / (N, C, H, W) uint8 or float -> float (N, C, H, W) in [0, 1]."""
        if isinstance(images, torch.Tensor):
            x = images
        else:
            x = torch.from_numpy(np.ascontiguousarray(np.asarray(images)))
        if x.dim() == 3:
            x = x.unsqueeze(1)
        elif x.dim() == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
            x = x.permute(0, 3, 1, 2)
        if x.dim() != 4:
            raise ValueError(f"images must be (N, H, W), (N, H, W, C) or (N, C, H, W), got shape {tuple(x.shape)}")
        was_uint8 = x.dtype == torch.uint8
        x = x.float()
        if was_uint8 or (x.numel() and x.max() > 1.0 + 1e-6):  # 0..255 values
            x = x / 255.0
        return x

    def _targets(self, targets, n: int, h: int, w: int):
        """Heatmaps (n, C, H/4, W/4), and per-object (image, cell, size, offset) for the regression heads."""
        ho, wo = h // STRIDE, w // STRIDE
        boxes = [torch.as_tensor(np.asarray(t["boxes"], np.float32).reshape(-1, 4)) for t in targets]
        labels = [torch.as_tensor(np.asarray(t["labels"]).reshape(-1).astype(np.int64)) for t in targets]
        counts = torch.tensor([len(b) for b in boxes])
        heat = torch.zeros(n * self.n_classes, ho * wo)
        if counts.sum() == 0:
            empty = torch.zeros(0, dtype=torch.long)
            return heat.view(n, self.n_classes, ho, wo), empty, empty, torch.zeros(0, 2), torch.zeros(0, 2)
        b = torch.cat(boxes) / STRIDE
        lab = torch.cat(labels)
        if (lab < 0).any() or (lab >= self.n_classes).any():
            raise ValueError(f"box labels must be in 0..{self.n_classes - 1}, got {lab.min().item()}..{lab.max().item()}")
        img = torch.repeat_interleave(torch.arange(n), counts)
        center = (b[:, :2] + b[:, 2:]) / 2
        size = (b[:, 2:] - b[:, :2])
        cell = center.floor().clamp(min=0)
        cell[:, 0] = cell[:, 0].clamp(max=wo - 1)
        cell[:, 1] = cell[:, 1].clamp(max=ho - 1)
        sigma = (size.min(dim=1).values / 6).clamp(min=0.5)  # about CenterNet's radius rule for small objects
        gx = torch.arange(wo).float()
        gy = torch.arange(ho).float()
        g = torch.exp(-((gx[None, None, :] - cell[:, 0, None, None]) ** 2
                        + (gy[None, :, None] - cell[:, 1, None, None]) ** 2) / (2 * sigma[:, None, None] ** 2))
        rows = (img * self.n_classes + lab)[:, None].expand(-1, ho * wo)
        heat.scatter_reduce_(0, rows, g.reshape(len(lab), -1), reduce="amax")
        flat = (cell[:, 1] * wo + cell[:, 0]).long()
        return heat.view(n, self.n_classes, ho, wo), img, flat, size, center - cell

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % STRIDE, (-w) % STRIDE
        return F.pad(x, (0, pw, 0, ph)) if ph or pw else x

    def _loss(self, x: torch.Tensor, targets) -> torch.Tensor:
        x = self._pad(x)
        n, _, h, w = x.shape
        heat, img, flat, size, offset = self._targets(targets, n, h, w)
        logits, reg = self.net_(x)
        loss = _focal_loss(logits, heat)
        if len(img):
            r = reg.flatten(2)[img, :, flat]  # (n_obj, 4)
            loss = loss + float(self.size_weight) * F.l1_loss(r[:, :2], size) + F.l1_loss(r[:, 2:], offset)
        return loss

    # ------------------------------------------------------------------ fit
    def fit(self, images, targets=None, sample_weight=None):
        """Train on ``images`` with ``targets``, or on a Dataset of ``(image, target)`` items.

        Parameters
        ----------
        images : ndarray (N, H, W[, C]) uint8/float, or a torch Dataset
            A Dataset (e.g. :class:`~ganaug.data.AugmentedDataset` with an
            albumentations transform) is read through a DataLoader with
            :func:`~ganaug.data.detection_collate`; its images must share one size.
        targets : list of dict, optional
            Pascal_voc boxes and labels per image (arrays only).
        sample_weight : array-like, optional
            Per-image sampling weights (class-balanced / repeat-factor
            sampling); default uniform.

        Returns
        -------
        self
        """
        from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

        from ganaug.data.transforms import detection_collate

        for name in ("steps", "batch_size", "width", "n_classes"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        seed = seed_from_random_state(self.random_state)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        is_dataset = isinstance(images, Dataset)
        if is_dataset:
            n = len(images)
            first = images[0][0]
        else:
            if targets is None:
                raise ValueError("targets are required when images is an array")
            if len(images) != len(targets):
                raise ValueError(f"images has {len(images)} items but targets has {len(targets)}; they must match")
            X = self._to_tensor(images)
            n = len(X)
            first = X[0]
        channels = (first.shape[0] if getattr(first, "ndim", 2) == 3 and first.shape[0] in (1, 3)
                    else (first.shape[-1] if getattr(first, "ndim", 2) == 3 else 1))
        self.channels_ = int(channels)
        self.net_ = _CenterNet(self.channels_, int(self.n_classes), int(self.width))
        opt = torch.optim.Adam(self.net_.parameters(), lr=float(self.lr))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.steps), eta_min=0.05 * float(self.lr))
        weights = torch.ones(n, dtype=torch.double) if sample_weight is None else \
            torch.as_tensor(np.asarray(sample_weight, np.float64))
        if len(weights) != n or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"sample_weight must be {n} non-negative weights with a positive sum")
        total = int(self.steps) * int(self.batch_size)
        if is_dataset:
            sampler = WeightedRandomSampler(weights, total, replacement=True, generator=gen)
            loader = iter(DataLoader(images, batch_size=int(self.batch_size), sampler=sampler,
                                     collate_fn=detection_collate))
        else:
            order = torch.multinomial(weights, total, replacement=True, generator=gen)
        self.net_.train()
        self.history_ = []
        for step in range(int(self.steps)):
            if is_dataset:
                xb, tb = next(loader)
                if isinstance(xb, list):
                    raise ValueError("all images of the dataset must have one size for training")
                xb = self._to_tensor(xb)
            else:
                idx = order[step * int(self.batch_size):(step + 1) * int(self.batch_size)]
                xb = X[idx]
                tb = [targets[i] for i in idx.tolist()]
            loss = self._loss(xb, tb)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"detector loss is not finite at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            self.history_.append(float(loss.detach()))
        self.net_.eval()
        return self

    # -------------------------------------------------------------- predict
    @torch.no_grad()
    def predict(self, images, score_threshold: float = 0.01, batch_size: int = 128) -> list[dict]:
        """Detections per image: ``{"boxes": (D, 4) pascal_voc, "scores": (D,), "labels": (D,)}``, best first."""
        if not hasattr(self, "net_"):
            raise ValueError("this CenterNetDetector is not fitted yet; call fit first")
        X = self._to_tensor(images)
        out: list[dict] = []
        for start in range(0, len(X), batch_size):  # batches of images
            x = self._pad(X[start:start + batch_size])
            logits, reg = self.net_(x)
            heat = torch.sigmoid(logits)
            peaks = heat * (F.max_pool2d(heat, 3, stride=1, padding=1) == heat)
            n, c, ho, wo = peaks.shape
            k = min(int(self.max_detections), c * ho * wo)
            scores, idx = peaks.flatten(1).topk(k, dim=1)
            cls = idx // (ho * wo)
            cell = idx % (ho * wo)
            cy, cx = (cell // wo).float(), (cell % wo).float()
            r = reg.flatten(2).gather(2, cell[:, None, :].expand(-1, 4, -1))  # (n, 4, k)
            wh = r[:, :2].clamp(min=0)
            ctr_x, ctr_y = cx + r[:, 2], cy + r[:, 3]
            boxes = torch.stack([ctr_x - wh[:, 0] / 2, ctr_y - wh[:, 1] / 2,
                                 ctr_x + wh[:, 0] / 2, ctr_y + wh[:, 1] / 2], dim=2) * STRIDE
            h, w = X.shape[-2:]
            boxes[..., 0::2] = boxes[..., 0::2].clamp(0, w)
            boxes[..., 1::2] = boxes[..., 1::2].clamp(0, h)
            keep = scores >= float(score_threshold)
            for i in range(n):  # split the batch into per-image results
                m = keep[i]
                out.append({"boxes": boxes[i][m].numpy(), "scores": scores[i][m].numpy(),
                            "labels": cls[i][m].numpy().astype(np.int64)})
        return out
