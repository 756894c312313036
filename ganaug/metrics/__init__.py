"""Quality metrics of synthetic data (image fidelity and translation quality)."""
