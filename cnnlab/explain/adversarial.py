"""The fast gradient sign method: one step that changes every pixel a little, in the worst way.

Goodfellow, Shlens and Szegedy (2015): move every pixel by ε in the direction that increases
the loss of the true class k,

    x_adv = clip(x + ε · sign(∂L/∂x), low, high),      L = -ln p_k(x)

Each pixel changes by at most ε (a faint speckle for a small ε), yet the changes all push
the same way: the loss grows by about ε · Σ|∂L/∂x| (the gradient's L1 norm, summed over
hundreds of pixels), enough to change the predicted class. ``clip`` keeps the result a valid
image (for pixel values scaled to [0, 1] the default clips to [0, 1]); where a pixel is
already at the edge of the range its change is smaller than ε (or zero).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import as_batch, input_gradient


@dataclass(frozen=True)
class Adversarial:
    """FGSM images and what the network makes of them (one image, or a batch of N: then
    every field has a leading N).

    image : the originals; adversarial : the perturbed images (clipped); perturbation :
    adversarial - image; gradient : ∂L/∂image of the cross-entropy of ``label``; epsilon;
    clip : (low, high) or None; label : the true classes; original_label, adversarial_label :
    the predicted classes before and after; original_probabilities,
    adversarial_probabilities : K values each."""
    image: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray
    gradient: np.ndarray
    epsilon: float
    clip: tuple | None
    label: np.ndarray
    original_label: np.ndarray
    adversarial_label: np.ndarray
    original_probabilities: np.ndarray
    adversarial_probabilities: np.ndarray

    @property
    def flipped(self):
        """Whether the step changed the predicted class (per image for a batch)."""
        return self.adversarial_label != self.original_label


def _check_clip(clip, who):
    if clip is None:
        return None
    values = tuple(np.ravel(clip)) if not isinstance(clip, str) else ()
    if len(values) != 2 or not all(np.isfinite(v) for v in values) \
            or not values[0] < values[1]:
        raise ValueError(f"{who}: clip = {clip!r}: expected (low, high) with low < high, or "
                         "None for no clipping")
    return float(values[0]), float(values[1])


def fgsm(net, images, labels, epsilon: float, *, clip=(0.0, 1.0)) -> Adversarial:
    """One fast-gradient-sign step of size ``epsilon`` for one image (H×W×C) or a batch,
    against the true ``labels`` (module docstring). The network must end in Softmax."""
    who = "fgsm"
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer,
                                                             np.floating)) \
            or not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"{who}: epsilon = {epsilon!r} must be a finite number ≥ 0 (the "
                         "largest change of any pixel)")
    bounds = _check_clip(clip, who)
    x, single = as_batch(net, images, who)
    grad, _loss, probs = input_gradient(net, x, labels, target="loss", who=who)
    adv = x.astype(np.float64) + float(epsilon) * np.sign(grad.astype(np.float64))
    if bounds is not None:
        adv = np.clip(adv, *bounds)
    adv = adv.astype(x.dtype)
    adv_probs = net.predict(adv)
    label = np.asarray(labels).reshape(-1).astype(int)
    parts = dict(image=x, adversarial=adv, perturbation=adv - x, gradient=grad,
                 label=label, original_label=probs.argmax(axis=1),
                 adversarial_label=adv_probs.argmax(axis=1), original_probabilities=probs,
                 adversarial_probabilities=adv_probs)
    if single:
        parts = {name: value[0] for name, value in parts.items()}
        parts["label"], parts["original_label"], parts["adversarial_label"] = (
            int(parts["label"]), int(parts["original_label"]),
            int(parts["adversarial_label"]))
    return Adversarial(epsilon=float(epsilon), clip=bounds, **parts)
