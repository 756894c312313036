import numpy as np
import pytest

from ganaug.detection import translate_scenes


@pytest.mark.slow
def test_translation_keeps_boxes(scenes):
    from ganaug.augment.translation import TranslationAugmenter

    images, targets = scenes
    tr = TranslationAugmenter("pix2pix", epochs=1, base_channels=8, batch_size=16, random_state=0)
    tr.fit(images[:32], 255 - images[:32])  # day -> night stand-in: inverted scenes
    out, new_targets = translate_scenes(tr, images[32:40], targets[32:40])
    assert out.shape == (8, 64, 64) and out.dtype == np.uint8
    for t, n in zip(targets[32:40], new_targets):
        np.testing.assert_array_equal(n["boxes"], t["boxes"])
        np.testing.assert_array_equal(n["labels"], t["labels"])
    with pytest.raises(ValueError, match="inverse_transform needs model='cyclegan'"):
        translate_scenes(tr, images[:2], targets[:2], direction="ba")


def test_resized_output_scales_boxes_and_bad_input(scenes):
    images, targets = scenes

    class Half:
        def transform(self, X):
            return X[:, ::2, ::2]

    out, new = translate_scenes(Half(), images[:3], targets[:3])
    assert out.shape == (3, 32, 32)
    np.testing.assert_allclose(new[0]["boxes"], targets[0]["boxes"] / 2)
    with pytest.raises(ValueError, match="direction"):
        translate_scenes(Half(), images[:3], targets[:3], direction="up")
    with pytest.raises(ValueError, match="3 items but targets has 2"):
        translate_scenes(Half(), images[:3], targets[:2])
