"""Image modality: conditional image GAN, image encoding, classifier and plots."""

from ganaug.image.diffaugment import diff_augment
from ganaug.image.model import ConditionalImageGAN
from ganaug.image.networks import ImageDiscriminator, ImageGenerator
from ganaug.image.translation import CycleGAN, Pix2Pix

__all__ = [
    "ConditionalImageGAN",
    "CycleGAN",
    "ImageDiscriminator",
    "ImageGenerator",
    "Pix2Pix",
    "diff_augment",
]
