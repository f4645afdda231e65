"""`tffx.tensorflow`: TensorFlow-specific names, as in `tff.tensorflow`.

    computation                     `tffx.tf_computation`
    transform_args / transform_result
                                    eager tensors and variables in a
                                    structure as numpy values
    replace_intrinsics_with_bodies  built-in aggregations rewritten as
                                    `federated_aggregate`s of TensorFlow
"""

from tffx.backends.mapreduce import intrinsic_bodies
from tffx.computations import tensorflow_computation
from tffx.computations import tensorflow_transforms

computation = tensorflow_computation.tf_computation
replace_intrinsics_with_bodies = intrinsic_bodies.replace_intrinsics_with_bodies
transform_args = tensorflow_transforms.transform_args
transform_result = tensorflow_transforms.transform_result
