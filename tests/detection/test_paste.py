import numpy as np
import pytest

from ganaug.detection import ObjectPasteAugmenter, box_ioa


def _labels(targets):
    return np.concatenate([t["labels"] for t in targets])


def test_pasted_object_is_found_at_its_box():
    """A white square object pasted with blend='replace' and no context: its pixels are exactly its box."""
    n = 12
    images = np.zeros((n, 40, 40), np.uint8)
    targets = []
    for i in range(n):
        images[i, 2:10, 2:10] = 255  # class 1: a white square
        images[i, 25:35, 25:33] = 100  # class 0: a grey block
        targets.append({"boxes": np.array([[2, 2, 10, 10], [25, 25, 33, 35]], np.float32), "labels": np.array([1, 0])})
    targets[0] = {"boxes": np.array([[2, 2, 10, 10]], np.float32), "labels": np.array([1])}
    images[0, 25:35, 25:33] = 0
    aug = ObjectPasteAugmenter(source="real", sampling_strategy={1: 11 + 6}, context=0.0, blend="replace",
                               scale_jitter=0.0, max_overlap=0.0, random_state=0).fit(images, targets)
    new_images, new_targets = aug.paste(images, targets)
    assert len(new_images) > 0 and aug.n_failed_ == 0
    for im, t in zip(new_images, new_targets):
        white = np.zeros(im.shape, bool)
        for b, c, p in zip(t["boxes"].astype(int), t["labels"], t["pasted"]):
            if p:
                assert b[2] - b[0] == 8 and b[3] - b[1] == 8  # size drawn from the class's real boxes
                assert (im[b[1]:b[3], b[0]:b[2]] == 255).all()  # the object is exactly at its box
            if c == 1:
                white[b[1]:b[3], b[0]:b[2]] = True
        assert not (im[~white] == 255).any()  # and nowhere else
        if 0 in t["labels"]:  # the existing grey block is not hidden (max_overlap=0)
            assert (im == 100).sum() == 80


def test_counts_boxes_and_overlap_on_real_scenes(scenes):
    images, targets = scenes
    aug = ObjectPasteAugmenter(source="real", max_overlap=0.1, random_state=0)
    new_images, new_targets = aug.fit(images, targets).paste(images, targets)
    counts = aug.instance_counts_
    top = max(counts.values())
    assert aug.sampling_strategy_ == {c: top - n for c, n in counts.items() if n < top}
    pasted = np.bincount(np.concatenate([t["labels"][t["pasted"]] for t in new_targets]), minlength=10)
    assert {c: int(pasted[c]) for c in aug.sampling_strategy_} == aug.sampling_strategy_
    assert aug.sampling_strategy_[8] > 50
    h, w = images.shape[1:]
    for t in new_targets:
        b = t["boxes"]
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all() and (b[:, 2] <= w).all() and (b[:, 3] <= h).all()
        assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
        old, new = b[~t["pasted"]], b[t["pasted"]]
        if len(old):  # a pasted box hides no earlier box by more than max_overlap
            assert box_ioa(new, old).max() <= 0.1 + 1e-6
        for k in range(1, len(new)):
            assert box_ioa(new[k:k + 1], new[:k]).max() <= 0.1 + 1e-6
    all_images, all_targets = aug.fit_resample(images, targets)
    assert len(all_images) == len(images) + len(new_images)
    np.testing.assert_array_equal(all_images[:len(images)], images)


def test_images_without_boxes_and_poisson(scenes):
    images, targets = scenes
    targets = [dict(t) for t in targets]
    for i in range(0, 60, 3):
        targets[i] = {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)}
    aug = ObjectPasteAugmenter(source="real", blend="poisson", random_state=1).fit(images, targets)
    new_images, new_targets = aug.paste(images, targets)
    assert new_images.dtype == np.uint8 and new_images.shape[1:] == images.shape[1:]
    assert sum(t["pasted"].sum() for t in new_targets) == sum(aug.sampling_strategy_.values())


def test_same_seed_same_result(scenes):
    images, targets = scenes
    a = ObjectPasteAugmenter(source="real", random_state=3).fit(images, targets).paste(images, targets)
    b = ObjectPasteAugmenter(source="real", random_state=3).fit(images, targets).paste(images, targets)
    np.testing.assert_array_equal(a[0], b[0])


def test_no_room_warns_and_counts(scenes):
    images, targets = scenes
    big = [{"boxes": np.array([[0, 0, 64, 64]], np.float32), "labels": np.array([3])} for _ in range(10)]
    big[0] = {"boxes": np.array([[0, 0, 64, 64], [0, 0, 20, 20]], np.float32), "labels": np.array([3, 8])}
    aug = ObjectPasteAugmenter(source="real", max_overlap=0.0, random_state=0).fit(images[:10], big)
    with pytest.warns(RuntimeWarning, match="found no place"):
        aug.paste(images[:10], big)
    assert aug.n_failed_ == aug.sampling_strategy_[8]


@pytest.mark.parametrize("kwargs, match", [
    (dict(source="diffusion"), "source must be one of"),
    (dict(blend="seamless"), "blend must be one of"),
    (dict(max_overlap=1.5), "max_overlap"),
    (dict(objects_per_image=(0, 2)), "objects_per_image"),
    (dict(object_size=30), "multiple of 4"),
])
def test_bad_parameters(scenes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ObjectPasteAugmenter(**kwargs).fit(*scenes)


def test_bad_data(scenes):
    images, targets = scenes
    with pytest.raises(ValueError, match="60 images but targets has 59"):
        ObjectPasteAugmenter(source="real").fit(images, targets[:59])
    bad = [dict(t) for t in targets]
    bad[4] = {"boxes": np.array([[10, 10, 80, 20]]), "labels": np.array([3])}
    with pytest.raises(ValueError, match=r"targets\[4\].*outside"):
        ObjectPasteAugmenter(source="real").fit(images, bad)
    with pytest.raises(ValueError, match="not fitted"):
        ObjectPasteAugmenter().paste(images, targets)


@pytest.mark.slow
def test_gan_source_makes_objects_of_the_asked_classes(tmp_path, scenes):
    from ganaug.augment.image import ImageAugmenter

    images, targets = scenes
    gan = ImageAugmenter(epochs=2, width=8, latent_dim=8, batch_size=32)
    aug = ObjectPasteAugmenter(source="gan", gan=gan, random_state=0).fit(images, targets)
    objs, labels = aug.sample_objects({8: 5, 7: 2}, random_state=0)
    assert sorted(labels.tolist()) == [7, 7, 8, 8, 8, 8, 8]
    assert all(o.shape[:2] == (28, 28) and o.dtype == np.uint8 for o in objs)
    new_images, new_targets = aug.paste(images, targets, counts={8: 10})
    assert sum(int((t["labels"][t["pasted"]] == 8).sum()) for t in new_targets) == 10
    assert aug.gan_.classes_.tolist() == [3, 7, 8]
    aug.source, aug.real_share = "mixed", 0.25  # the same crops and GAN, a quarter of the objects real
    objs, labels = aug.sample_objects({8: 8}, random_state=0)
    assert labels.tolist() == [8] * 8 and sum(o.shape[:2] != (28, 28) for o in objs) <= 2
    aug.save(tmp_path / "gan_paste")
    back = ObjectPasteAugmenter.load(tmp_path / "gan_paste")
    np.testing.assert_array_equal(np.stack(back.sample_objects({8: 3}, random_state=2)[0][1:]),
                                  np.stack(aug.sample_objects({8: 3}, random_state=2)[0][1:]))


def test_an_unseeded_gan_is_seeded_by_the_paste_augmenter(scenes):
    """``random_state`` of the paste augmenter makes the GAN it fits repeatable, even one given without a seed."""
    from ganaug.augment.image import ImageAugmenter

    images, targets = scenes
    gan = ImageAugmenter(epochs=1, width=8, latent_dim=8, batch_size=32)  # no random_state
    first, second = (ObjectPasteAugmenter(source="gan", gan=gan, random_state=3).fit(images, targets)
                     for _ in range(2))
    assert first.gan_.random_state is not None and gan.random_state is None  # the caller's object is untouched
    a, _ = first.sample_objects({8: 4}, random_state=1)
    b, _ = second.sample_objects({8: 4}, random_state=1)
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    seeded = ObjectPasteAugmenter(source="gan", gan=ImageAugmenter(epochs=1, width=8, latent_dim=8, batch_size=32,
                                                                   random_state=11), random_state=3).fit(images, targets)
    assert seeded.gan_.random_state == 11  # a seed the caller chose is kept


def test_save_load_round_trip(tmp_path, scenes):
    images, targets = scenes
    aug = ObjectPasteAugmenter(source="real", random_state=5).fit(images, targets)
    aug.save(tmp_path / "m")
    back = ObjectPasteAugmenter.load(tmp_path / "m")
    assert back.sampling_strategy_ == aug.sampling_strategy_ and back.instance_counts_ == aug.instance_counts_
    a, b = aug.paste(images, targets, random_state=1), back.paste(images, targets, random_state=1)
    np.testing.assert_array_equal(a[0], b[0])
    (tmp_path / "m" / "config.json").write_text((tmp_path / "m" / "config.json").read_text().replace("alpha", "replace"))
    from ganaug.exceptions import ModelFormatError

    with pytest.raises(ModelFormatError, match="altered"):
        ObjectPasteAugmenter.load(tmp_path / "m")
