"""Models for learning (`tffx.learning.models`, like `tff.learning.models`).

For now only `ModelWeights`; model classes and Keras wrappers come later.
"""

from tffx.learning.models.model_weights import ModelWeights as ModelWeights
