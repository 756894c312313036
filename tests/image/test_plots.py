import numpy as np
import pytest

from ganaug.image.plots import image_grid, plot_interpolation, plot_samples


def test_image_grid_places_images_row_by_row():
    imgs = np.stack([np.full((3, 2, 2), i / 10) for i in range(5)])
    grid = image_grid(imgs, ncol=3, pad=1, value=1.0)
    assert grid.shape == (5, 8, 3)
    assert grid[0, 0, 0] == 0.0 and grid[0, 3, 0] == pytest.approx(0.1) and grid[3, 3, 0] == pytest.approx(0.4)
    assert grid[3, 6, 0] == 1.0  # empty cell padded


def test_plots_write_pngs(tiny_augmenter, tmp_path):
    fig = plot_samples(tiny_augmenter, per_class=5, classes=[0, 7], title="samples")
    fig.savefig(tmp_path / "samples.png")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["0", "7"]
    assert fig.axes[0].images[0].get_array().shape == (2 * 29 - 1, 5 * 29 - 1)
    fig2 = plot_interpolation(tiny_augmenter, steps=6)
    fig2.savefig(tmp_path / "interp.png")
    assert (tmp_path / "samples.png").stat().st_size > 1000 and (tmp_path / "interp.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown class 5"):
        plot_samples(tiny_augmenter, classes=[5])
