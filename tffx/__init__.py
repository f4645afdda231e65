"""tffx: federated computation on TensorFlow graphs.

The public API, with TensorFlow Federated's names:

    import tffx

    @tffx.tf_computation(np.float32)
    def add_one(x):
      return x + 1.0

    @tffx.federated_computation(tffx.type_at_clients(np.float32))
    def mean_plus_one(temperatures):
      return tffx.federated_mean(tffx.federated_map(add_one, temperatures))

    mean_plus_one([1.0, 2.0, 3.0])  # 3.0

Everything here is re-exported from the module that defines it; modules not
named here are internal.
"""

# First, before TensorFlow loads: quiet its start-up lines for tffx-train
# and tffx-worker (a no-op in other programs).
from tffx import _console_startup as _console_startup  # pylint: disable=unused-import

# Types and placements.
from tffx.types.computation_types import AbstractType as AbstractType
from tffx.types.computation_types import FederatedType as FederatedType
from tffx.types.computation_types import FunctionType as FunctionType
from tffx.types.computation_types import PlacementType as PlacementType
from tffx.types.computation_types import SequenceType as SequenceType
from tffx.types.computation_types import StructType as StructType
from tffx.types.computation_types import StructWithPythonType as StructWithPythonType
from tffx.types.computation_types import TensorType as TensorType
from tffx.types.computation_types import to_type as to_type
from tffx.types.computation_types import Type as Type
from tffx.types.computation_types import type_at_clients as type_at_clients
from tffx.types.computation_types import type_at_server as type_at_server
from tffx.types.placements import CLIENTS as CLIENTS
from tffx.types.placements import SERVER as SERVER
from tffx.types import structure as structure
from tffx import types as types
from tffx.types.type_conversions import infer_type as infer_type
from tffx.types.typed_object import TypedObject as TypedObject

# Computations.
from tffx.computations.computation_impl import Computation as Computation
from tffx.computations.federated_computation import federated_computation as federated_computation
from tffx.computations.tensorflow_computation import tf_computation as tf_computation
from tffx.computations.value_impl import Value as Value
from tffx.computations.value_impl import public_to_value as to_value
from tffx import tensorflow as tensorflow
from tffx.computations.serialization import deserialize_computation as deserialize_computation
from tffx.computations.serialization import serialize_computation as serialize_computation

# Intrinsics.
from tffx.computations.intrinsics import federated_aggregate as federated_aggregate
from tffx.computations.intrinsics import federated_broadcast as federated_broadcast
from tffx.computations.intrinsics import federated_eval as federated_eval
from tffx.computations.intrinsics import federated_map as federated_map
from tffx.computations.intrinsics import federated_max as federated_max
from tffx.computations.intrinsics import federated_mean as federated_mean
from tffx.computations.intrinsics import federated_min as federated_min
from tffx.computations.intrinsics import federated_secure_select as federated_secure_select
from tffx.computations.intrinsics import federated_secure_sum as federated_secure_sum
from tffx.computations.intrinsics import federated_secure_sum_bitwidth as federated_secure_sum_bitwidth
from tffx.computations.intrinsics import federated_select as federated_select
from tffx.computations.intrinsics import federated_sum as federated_sum
from tffx.computations.intrinsics import federated_value as federated_value
from tffx.computations.intrinsics import federated_zip as federated_zip
from tffx.computations.intrinsics import sequence_map as sequence_map
from tffx.computations.intrinsics import sequence_reduce as sequence_reduce
from tffx.computations.intrinsics import sequence_sum as sequence_sum

# Test helpers (TFF's tff.test).
from tffx import testing as test

# Execution and higher layers.
from tffx import aggregators as aggregators
from tffx import analytics as analytics
from tffx import backends as backends
from tffx import templates as templates
from tffx import learning as learning
from tffx import program as program
from tffx import simulation as simulation
# tffx.learning.programs uses tffx.program, a layer above tffx.learning: it is
# its own area and tffx.learning does not import it; importing it here makes
# it the attribute `tffx.learning.programs`, as in TFF.
from tffx.learning import programs as _learning_programs
# Likewise tffx.simulation.baselines, which uses tffx.learning's models: its
# own area above tffx.simulation, made the attribute of tffx.simulation here.
from tffx.simulation import baselines as _simulation_baselines

from tffx.computations import context_stack as _context_stack

# Computations run on the thread-pool executor unless a context is set
# (tffx.backends.{reference,native,remote}). The context is built on first
# use, so importing tffx starts no threads.
_context_stack.set_default_context_factory(
    backends.native.create_local_execution_context)
