"""Image modality: conditional image GAN, image encoding, classifier and plots."""

from ganaug.image.diffaugment import diff_augment
from ganaug.image.model import ConditionalImageGAN
from ganaug.image.networks import ImageDiscriminator, ImageGenerator

__all__ = [
    "ConditionalImageGAN",
    "ImageDiscriminator",
    "ImageGenerator",
    "diff_augment",
]
