"""`tffx.tensorflow`: TensorFlow-specific names, as in `tff.tensorflow`.

`tffx.tensorflow.computation` is `tffx.tf_computation`.
"""

from tffx.computations.tensorflow_computation import tf_computation as computation
