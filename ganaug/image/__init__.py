"""Image modality: conditional image GAN, image encoding, classifier and plots."""

from ganaug.image.classifier import CNNClassifier, SmallCNN
from ganaug.image.diffaugment import adaptive_augment, diff_augment
from ganaug.image.encoding import ImageEncoder, check_images
from ganaug.image.model import ConditionalImageGAN
from ganaug.image.networks import ImageDiscriminator, ImageGenerator
from ganaug.image.plots import image_grid, plot_interpolation, plot_samples, plot_style_grid
from ganaug.image.translation import CycleGAN, Pix2Pix

__all__ = [
    "CNNClassifier",
    "ConditionalImageGAN",
    "CycleGAN",
    "ImageDiscriminator",
    "ImageEncoder",
    "ImageGenerator",
    "Pix2Pix",
    "SmallCNN",
    "adaptive_augment",
    "check_images",
    "diff_augment",
    "image_grid",
    "plot_interpolation",
    "plot_samples",
    "plot_style_grid",
]
