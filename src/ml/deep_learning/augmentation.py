"""Data augmentation for digits: random translations.

A CNN's pooling gives it a little tolerance to where a stroke sits; showing it each training digit shifted by a
pixel or two in a random direction every epoch teaches the rest, and is the cheapest regulariser for MNIST
(test images are never shifted). `random_shift(batch, rng, max_shift)` has the signature NeuralNetwork.fit's
`augment` expects.
"""

import numpy as np


def random_shift(images: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Each image (..., H, W) moved by its own random (dy, dx) in [-max_shift, max_shift], filled with 0."""
    if max_shift == 0:
        return images
    *lead, h, w = images.shape
    flat = images.reshape(-1, h, w)
    padded = np.pad(flat, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    offsets = rng.integers(0, 2 * max_shift + 1, size=(len(flat), 2))
    shifted = np.empty_like(flat)
    for k, (dy, dx) in enumerate(offsets):
        shifted[k] = padded[k, dy : dy + h, dx : dx + w]
    return shifted.reshape(images.shape)
