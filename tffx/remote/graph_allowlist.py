"""The TensorFlow ops a worker runs, and the check every graph passes first.

A worker runs graphs that a controller sends. A graph is a program: ops
such as `PyFunc` run Python, `WriteFile` writes files, `TFRecordDataset`
reads them, collectives talk to the network. So before importing a graph, a
worker checks every op of it, including the ops inside the functions of its
library, against ALLOWED_OPS, and refuses the graph with an error naming the
first op it does not allow:

    allowlist = GraphAllowlist()
    allowlist.check_message(request)   # every TensorFlow graph in a proto

ALLOWED_OPS is built deliberately, by kind (plumbing and control flow,
math, arrays, linear algebra, neural networks, strings, sparse tensors,
random numbers, variables and tables, in-memory datasets). It holds what
tffx's tests and the learning layer use, and the usual neighbours of those
ops. Ops that can touch the host are in DENIED_OPS with the reason, and can
never be allowed.

Extending the allowlist: a worker started with
`--extra_allowed_ops=OpA,OpB` also runs OpA and OpB (a `GraphAllowlist`
built with `extra_ops`). To allow an op for everyone, add it to the fitting
kind below, after checking that it neither reads nor writes files, nor
talks to the network or other processes, nor runs Python or loads code;
`graph_allowlist_test` checks that every name is a registered op.

Client datasets that travel as tf.data graphs (`dataset_graphs`) pass the
same check before a worker rebuilds them.

Function calls: a node whose op is a function of the graph's own library is
a call, and that function is checked like the graph. A function named by an
attribute (the body of a `While`, the `f` of a `MapDataset`) must also be
in the library, so a graph cannot reach functions it does not carry.
"""

import hashlib
import threading
from typing import Iterable, Iterator, Optional

import tensorflow as tf

from tffx.proto import computation_pb2
from tffx.remote import errors
from tffx.remote import graph_limits

_PLUMBING = frozenset({
    'Assert', 'CheckNumerics', 'CheckNumericsV2', 'Const', 'ControlTrigger',
    'EnsureShape', 'Identity', 'IdentityN', 'NoOp', 'Placeholder',
    'PlaceholderWithDefault', 'PreventGradient', 'Snapshot', 'StopGradient',
    # A function's arguments and results (dataset graphs return through one).
    '_Arg', '_Retval',
    # Printing to the worker's log; PrintV2 may not name a file (see
    # `_check_attrs`).
    'Print', 'PrintV2', 'StringFormat', 'Timestamp',
})
_CONTROL_FLOW = frozenset({
    'Case', 'Enter', 'Exit', 'If', 'LoopCond', 'Merge', 'NextIteration',
    'PartitionedCall', 'StatefulPartitionedCall', 'StatelessCase',
    'StatelessIf', 'StatelessWhile', 'Switch', 'While',
})
_MATH = frozenset({
    'Abs', 'Acos', 'Acosh', 'Add', 'AddN', 'AddV2', 'All', 'Angle', 'Any',
    'ApproximateEqual', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atan2',
    'Atanh', 'BesselI0e', 'BesselI1e', 'Betainc', 'Bincount', 'Bitcast',
    'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'Bucketize', 'Cast', 'Ceil',
    'ClipByValue', 'Complex', 'ComplexAbs', 'Conj', 'Cos', 'Cosh', 'Cumprod',
    'Cumsum', 'CumulativeLogsumexp', 'DenseBincount', 'Digamma', 'Div',
    'DivNoNan', 'Equal', 'Erf', 'Erfc', 'Erfinv', 'EuclideanNorm', 'Exp',
    'Expm1', 'Floor', 'FloorDiv', 'FloorMod', 'Greater', 'GreaterEqual',
    'HistogramFixedWidth', 'Igamma', 'Igammac', 'Imag', 'Inv', 'InvGrad',
    'Invert', 'IsFinite', 'IsInf', 'IsNan', 'LeftShift', 'Less', 'LessEqual',
    'Lgamma', 'Log', 'Log1p', 'LogicalAnd', 'LogicalNot', 'LogicalOr', 'Max',
    'Maximum', 'Mean', 'Min', 'Minimum', 'Mod', 'Mul', 'MulNoNan', 'Ndtri',
    'Neg', 'NextAfter', 'NotEqual', 'PopulationCount', 'Pow', 'Prod', 'Real',
    'RealDiv', 'Reciprocal', 'ReciprocalGrad', 'RightShift', 'Rint', 'Round',
    'Rsqrt', 'RsqrtGrad', 'SegmentMax', 'SegmentMean', 'SegmentMin',
    'SegmentProd', 'SegmentSum', 'Select', 'SelectV2', 'Sigmoid',
    'SigmoidGrad', 'Sign', 'Sin', 'Sinh', 'Sqrt', 'SqrtGrad', 'Square',
    'SquaredDifference', 'Sub', 'Sum', 'Tan', 'Tanh', 'TanhGrad',
    'TruncateDiv', 'TruncateMod', 'UnsortedSegmentMax', 'UnsortedSegmentMin',
    'UnsortedSegmentProd', 'UnsortedSegmentSum', 'Xdivy', 'Xlog1py', 'Xlogy',
    'Zeta',
})
_ARRAYS = frozenset({
    'BatchToSpaceND', 'BroadcastArgs', 'BroadcastGradientArgs', 'BroadcastTo',
    'Concat', 'ConcatOffset', 'ConcatV2', 'DepthToSpace', 'Diag', 'DiagPart',
    'DynamicPartition', 'DynamicStitch', 'Empty', 'ExpandDims', 'Fill',
    'Gather', 'GatherNd', 'GatherV2', 'InTopKV2', 'InvertPermutation',
    'LinSpace', 'ListDiff', 'LowerBound', 'MirrorPad', 'MirrorPadGrad',
    'OneHot', 'OnesLike', 'Pack', 'Pad', 'PadV2', 'ParallelDynamicStitch',
    'Range', 'Rank', 'Reshape', 'Reverse', 'ReverseSequence', 'ReverseV2',
    'Roll', 'ScatterNd', 'Shape', 'ShapeN', 'Size', 'Slice', 'SpaceToBatchND',
    'SpaceToDepth', 'Split', 'SplitV', 'Squeeze', 'StridedSlice',
    'StridedSliceGrad', 'TensorScatterAdd', 'TensorScatterMax',
    'TensorScatterMin', 'TensorScatterSub', 'TensorScatterUpdate', 'Tile',
    'TopKV2', 'Transpose', 'Unique', 'UniqueV2', 'UniqueWithCounts', 'Unpack',
    'UpperBound', 'Where', 'ZerosLike',
    # TensorArrays and TensorLists (loops that stack results).
    'EmptyTensorList', 'TensorArrayCloseV3', 'TensorArrayConcatV3',
    'TensorArrayGatherV3', 'TensorArrayGradV3', 'TensorArrayReadV3',
    'TensorArrayScatterV3', 'TensorArraySizeV3', 'TensorArraySplitV3',
    'TensorArrayV3', 'TensorArrayWriteV3', 'TensorListConcatV2',
    'TensorListElementShape', 'TensorListFromTensor', 'TensorListGather',
    'TensorListGetItem', 'TensorListLength', 'TensorListPopBack',
    'TensorListPushBack', 'TensorListReserve', 'TensorListResize',
    'TensorListScatterIntoExistingList', 'TensorListSetItem',
    'TensorListSplit', 'TensorListStack',
})
_LINEAR_ALGEBRA = frozenset({
    'BatchMatMul', 'BatchMatMulV2', 'BatchMatMulV3', 'Cholesky',
    'ConjugateTranspose', 'Einsum', 'LogMatrixDeterminant', 'MatMul',
    'MatrixBandPart', 'MatrixDeterminant', 'MatrixDiag', 'MatrixDiagPart',
    'MatrixDiagPartV2', 'MatrixDiagPartV3', 'MatrixDiagV2', 'MatrixDiagV3',
    'MatrixInverse', 'MatrixSetDiag', 'MatrixSetDiagV2', 'MatrixSetDiagV3',
    'MatrixSolve', 'MatrixTriangularSolve', 'Qr', 'SelfAdjointEigV2', 'Svd',
})
_NEURAL_NETWORKS = frozenset({
    'AvgPool', 'AvgPool3D', 'AvgPool3DGrad', 'AvgPoolGrad', 'BiasAdd',
    'BiasAddGrad', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
    'Conv3D', 'Conv3DBackpropFilterV2', 'Conv3DBackpropInputV2',
    'DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput', 'Elu', 'EluGrad',
    'FusedBatchNorm', 'FusedBatchNormGrad', 'FusedBatchNormGradV3',
    'FusedBatchNormV3', 'L2Loss', 'LRN', 'LeakyRelu', 'LeakyReluGrad',
    'LogSoftmax', 'MaxPool', 'MaxPool3D', 'MaxPool3DGrad', 'MaxPoolGrad',
    'MaxPoolGradV2', 'MaxPoolV2', 'Relu', 'Relu6', 'Relu6Grad', 'ReluGrad',
    'ResizeBilinear', 'ResizeBilinearGrad', 'ResizeNearestNeighbor',
    'ResizeNearestNeighborGrad', 'Selu', 'SeluGrad', 'Softmax',
    'SoftmaxCrossEntropyWithLogits', 'Softplus', 'SoftplusGrad', 'Softsign',
    'SoftsignGrad', 'SparseSoftmaxCrossEntropyWithLogits',
})
_STRINGS = frozenset({
    'AsString', 'DecodeBase64', 'DecodeRaw', 'EncodeBase64', 'ReduceJoin',
    'RegexFullMatch', 'RegexReplace', 'StaticRegexFullMatch',
    'StaticRegexReplace', 'StringJoin', 'StringLength', 'StringLower',
    'StringNGrams', 'StringSplitV2', 'StringStrip', 'StringToHashBucketFast',
    'StringToHashBucketStrong', 'StringToNumber', 'StringUpper', 'Substr',
    'UnicodeDecode', 'UnicodeDecodeWithOffsets', 'UnicodeEncode',
})
_SPARSE = frozenset({
    'SparseAdd', 'SparseConcat', 'SparseFillEmptyRows', 'SparseReduceSum',
    'SparseReorder', 'SparseReshape', 'SparseSegmentMean',
    'SparseSegmentSqrtN', 'SparseSegmentSum', 'SparseSlice',
    'SparseTensorDenseAdd', 'SparseTensorDenseMatMul', 'SparseToDense',
})
# Random numbers, seeded or not; all computed in memory.
_RANDOM = frozenset({
    'AnonymousSeedGenerator', 'DeleteSeedGenerator', 'DummySeedGenerator',
    'Multinomial', 'ParameterizedTruncatedNormal', 'RandomGamma',
    'RandomPoissonV2', 'RandomShuffle', 'RandomStandardNormal',
    'RandomUniform', 'RandomUniformInt', 'RngReadAndSkip', 'RngSkip',
    'StatefulStandardNormalV2', 'StatefulTruncatedNormal',
    'StatefulUniform', 'StatefulUniformFullInt', 'StatefulUniformInt',
    'StatelessMultinomial', 'StatelessParameterizedTruncatedNormal',
    'StatelessRandomBinomial', 'StatelessRandomGammaV2',
    'StatelessRandomGetAlg', 'StatelessRandomGetKeyCounter',
    'StatelessRandomGetKeyCounterAlg', 'StatelessRandomNormal',
    'StatelessRandomNormalV2', 'StatelessRandomPoisson',
    'StatelessRandomUniform', 'StatelessRandomUniformFullInt',
    'StatelessRandomUniformFullIntV2', 'StatelessRandomUniformInt',
    'StatelessRandomUniformIntV2', 'StatelessRandomUniformV2',
    'StatelessShuffle', 'StatelessTruncatedNormal',
    'StatelessTruncatedNormalV2', 'TruncatedNormal',
})
# Resource variables and in-memory lookup tables (not tables from files).
_STATE = frozenset({
    'AssignAddVariableOp', 'AssignSubVariableOp', 'AssignVariableOp',
    'DestroyResourceOp', 'ReadVariableOp', 'ResourceApplyAdagradV2',
    'ResourceApplyAdam', 'ResourceApplyGradientDescent',
    'ResourceApplyKerasMomentum', 'ResourceApplyMomentum',
    'ResourceApplyRMSProp', 'ResourceGather', 'ResourceGatherNd',
    'ResourceScatterAdd', 'ResourceScatterDiv', 'ResourceScatterMax',
    'ResourceScatterMin', 'ResourceScatterMul', 'ResourceScatterNdAdd',
    'ResourceScatterNdSub', 'ResourceScatterNdUpdate', 'ResourceScatterSub',
    'ResourceScatterUpdate', 'ResourceStridedSliceAssign', 'VarHandleOp',
    'VarIsInitializedOp', 'VariableShape',
    'AnonymousHashTable', 'AnonymousMutableHashTable', 'HashTableV2',
    'InitializeTableV2', 'LookupTableExportV2', 'LookupTableFindV2',
    'LookupTableImportV2', 'LookupTableInsertV2', 'LookupTableRemoveV2',
    'LookupTableSizeV2', 'MutableHashTableV2',
})
# Datasets built from tensors in memory, their transformations, and
# iteration. Not caches, snapshots, saves or loads (files), not the data
# service (network), not readers of records (files).
_DATASETS = frozenset({
    'AnonymousIteratorV2', 'AnonymousIteratorV3', 'AssertCardinalityDataset',
    'BatchDataset', 'BatchDatasetV2', 'ConcatenateDataset',
    'DatasetCardinality', 'DatasetToSingleElement', 'DeleteIterator',
    'DirectedInterleaveDataset', 'FilterDataset', 'FinalizeDataset',
    'FlatMapDataset', 'GroupByWindowDataset', 'InterleaveDataset',
    'IteratorGetNext', 'IteratorGetNextAsOptional', 'MakeIterator',
    'MapAndBatchDataset', 'MapDataset', 'MaxIntraOpParallelismDataset',
    'ModelDataset', 'OptimizeDataset', 'OptimizeDatasetV2',
    'OptionalFromValue', 'OptionalGetValue', 'OptionalHasValue',
    'OptionalNone', 'OptionsDataset', 'PaddedBatchDataset',
    'PaddedBatchDatasetV2', 'ParallelBatchDataset', 'ParallelFilterDataset',
    'ParallelInterleaveDatasetV4', 'ParallelMapDataset',
    'ParallelMapDatasetV2', 'PrefetchDataset', 'PrivateThreadPoolDataset',
    'RandomDatasetV2', 'RangeDataset', 'RebatchDatasetV2', 'ReduceDataset',
    'RepeatDataset', 'ScanDataset', 'ShardDataset',
    'ShuffleAndRepeatDataset', 'ShuffleAndRepeatDatasetV2', 'ShuffleDataset',
    'ShuffleDatasetV2', 'ShuffleDatasetV3', 'SkipDataset',
    'SlidingWindowDataset', 'SparseTensorSliceDataset',
    'TakeDataset', 'TakeWhileDataset', 'TensorDataset', 'TensorSliceDataset',
    'UnbatchDataset', 'UniqueDataset', 'UnwrapDatasetVariant',
    'WindowDataset', 'WrapDatasetVariant', 'ZipDataset',
})

ALLOWED_OPS = frozenset().union(_PLUMBING, _CONTROL_FLOW, _MATH, _ARRAYS,
                                _LINEAR_ALGEBRA, _NEURAL_NETWORKS, _STRINGS,
                                _SPARSE, _RANDOM, _STATE, _DATASETS)

_PYTHON = 'it runs Python code on the worker'
_FILES = 'it reads or writes files on the worker'
_NETWORK = 'it talks to other processes or the network'
DENIED_OPS = {
    **dict.fromkeys(['PyFunc', 'PyFuncStateless', 'EagerPyFunc'], _PYTHON),
    **dict.fromkeys([
        'ReadFile', 'WriteFile', 'MatchingFiles', 'Save', 'SaveV2',
        'SaveSlices', 'Restore', 'RestoreV2', 'RestoreSlice',
        'MergeV2Checkpoints', 'ImmutableConst', 'TFRecordDataset',
        'TFRecordDatasetV2', 'TextLineDataset', 'FixedLengthRecordDataset',
        'FixedLengthRecordDatasetV2', 'CSVDataset', 'CSVDatasetV2',
        'ExperimentalCSVDataset', 'LMDBDataset', 'ExperimentalLMDBDataset',
        'MatchingFilesDataset', 'ExperimentalMatchingFilesDataset',
        'CacheDataset', 'CacheDatasetV2', 'SnapshotDataset',
        'SnapshotDatasetV2', 'SnapshotDatasetReader', 'SaveDataset',
        'SaveDatasetV2', 'LoadDataset', 'DatasetToTFRecord',
        'ExperimentalDatasetToTFRecord', 'DatasetFromGraph',
        'WholeFileReaderV2', 'TFRecordReaderV2', 'TextLineReaderV2',
        'FixedLengthRecordReaderV2', 'ReaderReadV2', 'ReaderReadUpToV2',
        'InitializeTableFromTextFile', 'InitializeTableFromTextFileV2',
        'CreateSummaryFileWriter', 'CreateSummaryDbWriter',
        'WriteScalarSummary', 'WriteSummary', 'WriteHistogramSummary',
        'WriteImageSummary', 'WriteAudioSummary', 'WriteGraphSummary',
        'WriteRawProtoSummary', 'DecodeProtoV2', 'FileSystemSetConfiguration',
        'SqlDataset', 'ExperimentalSqlDataset'
    ], _FILES),
    **dict.fromkeys([
        'DataServiceDataset', 'DataServiceDatasetV2', 'DataServiceDatasetV3',
        'DataServiceDatasetV4', 'RegisterDataset', 'RegisterDatasetV2',
        'DistributedSave', 'RemoteCall', 'Send', 'Recv', '_Send', '_Recv',
        'CollectiveReduce', 'CollectiveReduceV2', 'CollectiveReduceV3',
        'CollectiveGather', 'CollectiveGatherV2', 'CollectiveBcastSend',
        'CollectiveBcastRecv', 'CollectiveBcastSendV2', 'CollectiveBcastRecvV2',
        'CollectiveAllToAllV2', 'CollectiveAllToAllV3',
        'CollectiveReduceScatterV2', 'CollectivePermute',
        'CollectiveInitializeCommunicator', 'GeneratorDataset'
    ], _NETWORK),
}
assert not ALLOWED_OPS & set(DENIED_OPS), ALLOWED_OPS & set(DENIED_OPS)

# The streams PrintV2 may write to; a "file://..." stream is refused.
_PRINT_STREAMS = frozenset({b'stderr', b'stdout', b'log(info)',
                            b'log(warning)', b'log(error)'})
# Messages a walk over a request never needs to enter.
_LEAF_MESSAGES = frozenset({computation_pb2.Array.DESCRIPTOR,
                            computation_pb2.Type.DESCRIPTOR})
_MAX_REMEMBERED_GRAPHS = 4096


class GraphAllowlist:
  """Checks TensorFlow graphs against the allowed ops.

  Args:
    extra_ops: Op names to allow beyond `ALLOWED_OPS`.
    limits: The largest sizes a graph may declare as constants
      (`graph_limits`); `SizeLimits()` by default.

  Raises:
    ValueError: if an extra op is one of `DENIED_OPS`.
  """

  def __init__(self, extra_ops: Iterable[str] = (),
               limits: Optional[graph_limits.SizeLimits] = None):
    extra_ops = frozenset(extra_ops)
    denied = sorted(extra_ops & set(DENIED_OPS))
    if denied:
      raise ValueError(
          f'Ops {denied} cannot be allowed: {DENIED_OPS[denied[0]]}.')
    self._allowed = ALLOWED_OPS | extra_ops
    self._limits = limits or graph_limits.SizeLimits()
    self._lock = threading.Lock()
    self._checked = set()  # Digests of graphs already found allowed.

  @property
  def allowed_ops(self) -> frozenset:
    return self._allowed

  def check_message(self, message) -> None:
    """Checks every `computation_pb2.TensorFlow` inside a protobuf message.

    Raises:
      DisallowedOpError: naming the first op that is not allowed.
    """
    for proto in _tensorflow_messages(message):
      self.check_tensorflow(proto)

  def check_tensorflow(self, proto: computation_pb2.TensorFlow) -> None:
    """Checks the graph of one TensorFlow computation.

    Raises:
      DisallowedOpError: naming the first op that is not allowed.
    """
    digest = hashlib.sha256(proto.graph_def).digest()
    with self._lock:
      if digest in self._checked:
        return
    graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
    self.check_graph_def(graph_def, proto.name or 'tensorflow')
    with self._lock:
      if len(self._checked) >= _MAX_REMEMBERED_GRAPHS:
        self._checked.clear()
      self._checked.add(digest)

  def check_graph_def(self, graph_def, name: str) -> None:
    """Checks a `tf.compat.v1.GraphDef`; `name` names it in errors.

    Raises:
      DisallowedOpError: naming the first op that is not allowed.
      GraphTooLargeError: naming the first node that declares a constant
        size beyond the limits.
    """
    functions = {f.signature.name for f in graph_def.library.function}
    where = f'TensorFlow computation {name!r}'
    consts = graph_limits.constants(graph_def.node)
    for node in graph_def.node:
      self._check_node(node, functions, where)
      graph_limits.check_node(node, consts, self._limits, where)
    for function in graph_def.library.function:
      inside = f'{where}, function {function.signature.name!r}'
      consts = graph_limits.constants(function.node_def)
      for node in function.node_def:
        self._check_node(node, functions, inside)
        graph_limits.check_node(node, consts, self._limits, inside)

  def _check_node(self, node, functions: set, where: str) -> None:
    op = node.op
    if op not in functions and op not in self._allowed:
      reason = DENIED_OPS.get(op, 'it is not in the worker\'s allowlist')
      raise errors.DisallowedOpError(
          f'The worker refuses {where}: node {node.name!r} is the op {op!r}, '
          f'and {reason}. Tip: remove the op (e.g. tf.py_function, '
          f'tf.io.*, file-based datasets) from the computation; an op that '
          f'touches nothing outside TensorFlow can be allowed with the '
          f'worker flag --extra_allowed_ops={op}.')
    for attr_name, attr in node.attr.items():
      for called in _function_names(attr):
        if called not in functions:
          raise errors.DisallowedOpError(
              f'The worker refuses {where}: node {node.name!r} ({op}) calls '
              f'function {called!r} through attribute {attr_name!r}, but '
              f'the graph does not define it.')
    if op == 'PrintV2' and 'output_stream' in node.attr:
      stream = node.attr['output_stream'].s
      if stream not in _PRINT_STREAMS:
        allowed = sorted(s.decode() for s in _PRINT_STREAMS)
        raise errors.DisallowedOpError(
            f'The worker refuses {where}: node {node.name!r} prints to '
            f'{stream.decode("utf-8", "replace")!r}, and {_FILES}; '
            f'PrintV2 may print to {allowed}.')


def _function_names(attr) -> Iterator[str]:
  """The names of the functions an `AttrValue` refers to."""
  kind = attr.WhichOneof('value')
  if kind == 'func':
    yield attr.func.name
    for inner in attr.func.attr.values():
      yield from _function_names(inner)
  elif kind == 'list':
    for func in attr.list.func:
      yield func.name
      for inner in func.attr.values():
        yield from _function_names(inner)


def _tensorflow_messages(message) -> Iterator[computation_pb2.TensorFlow]:
  """Yields the `TensorFlow` messages nested anywhere in `message`."""
  return nested_messages(message, (computation_pb2.TensorFlow.DESCRIPTOR,))


def nested_messages(message, descriptors) -> Iterator:
  """Yields the messages of the kinds `descriptors` anywhere in `message`.

  A message found is not searched further.
  """
  pending = [message]
  while pending:
    current = pending.pop()
    descriptor = current.DESCRIPTOR
    if descriptor in descriptors:
      yield current
      continue
    if descriptor in _LEAF_MESSAGES:
      continue
    for field, value in current.ListFields():
      if field.message_type is None:
        continue
      if field.is_repeated:
        pending.extend(value)
      else:
        pending.append(value)
