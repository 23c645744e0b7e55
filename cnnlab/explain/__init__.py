"""What does the network see? Explanations computed from a trained network's own layers.

- :func:`saliency`: ∂(class score)/∂pixel, the saliency map (``gradients.py``);
- :func:`occlusion_map`: the drop of the class probability when a patch hides each part of
  the image (``occlusion.py``);
- :func:`top_activating_patches`: the image regions, cut exactly by the receptive field,
  where a filter responds most (``patches.py``);
- :func:`fgsm`: the fast gradient sign method, one step of ε·sign(∂L/∂x) that changes the
  predicted class while every pixel moves by at most ε (``adversarial.py``).

Pictures of each: ``cnnlab.viz.explain``.
"""
from .adversarial import Adversarial, fgsm
from .gradients import Saliency, input_gradient, saliency
from .occlusion import OcclusionMap, occlusion_map
from .patches import ActivatingPatch, layer_outputs, top_activating_patches

__all__ = ["saliency", "Saliency", "input_gradient", "occlusion_map", "OcclusionMap",
           "top_activating_patches", "ActivatingPatch", "layer_outputs", "fgsm",
           "Adversarial"]
