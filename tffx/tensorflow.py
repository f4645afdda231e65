"""`tffx.tensorflow`: TensorFlow-specific names, as in `tff.tensorflow`.

`tffx.tensorflow.computation` is `tffx.tf_computation`.
"""

from tffx.computations import tensorflow_computation

computation = tensorflow_computation.tf_computation
