"""Augmenters: one fit / sample / fit_resample interface over every GAN (tables, images, series, translation)."""
