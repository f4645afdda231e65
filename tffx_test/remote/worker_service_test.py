"""The worker: requests in-process, then security on real worker processes."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import grpc
import numpy as np
import tensorflow as tf

from tffx.backends import remote
from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import serialization
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import aggregations
from tffx.executors import dataset_sources
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import auth
from tffx.remote import errors
from tffx.remote import transport
from tffx.remote import wire
from tffx.remote import worker_service
from tffx.types import computation_types as ct
from tffx.types import type_serialization
from tffx_test.remote import programs
from tffx_test.remote import worker_processes

F32 = ct.TensorType(np.float32)
CLIENTS_F32 = ct.type_at_clients(F32)
_TOKEN = 'correct horse battery staple'


class _RecordingExecutor(reference_executor.ReferenceExecutor):
  """The reference executor, remembering that it ran."""

  def __init__(self):
    super().__init__()
    self.runs = 0

  def run(self, comp, arg, num_clients):
    self.runs += 1
    return super().run(comp, arg, num_clients)


def _map_request(members, handle='', session='s', fn=programs.add_one):
  """A run of federated_map(fn) on `members` sent along."""
  parameter = ct.StructType([(None, CLIENTS_F32)])
  map_type = ct.FunctionType(
      ct.StructType([(None, ct.FunctionType(F32, F32)), (None, CLIENTS_F32)]),
      CLIENTS_F32)
  function = bb.Lambda('p', parameter, bb.Call(
      bb.Intrinsic('federated_map', map_type),
      bb.Struct([fn.to_building_block(),
                 bb.Selection(bb.Reference('p', parameter), index=0)])))
  value = federated_value.FederatedValue(
      CLIENTS_F32, [np.float32(m) for m in members])
  run = remote_pb2.RunRequest(
      num_clients=len(members), result_handle=handle,
      function=serialization.serialize_building_block(function))
  run.argument.add().value.CopyFrom(
      value_serialization.serialize_value(value, CLIENTS_F32))
  return remote_pb2.WorkerRequest(session=session, run=run)


def _members(response):
  value, _ = value_serialization.deserialize_value(response.value)
  return [float(m) for m in value.members]


I64 = ct.TensorType(np.int64)
CLIENTS_I64_SEQ = ct.type_at_clients(ct.SequenceType(I64))


@tfc.tf_computation(ct.SequenceType(I64))
def _sum_elements(dataset):
  return dataset.reduce(np.int64(0), lambda total, x: total + x)


def _range_opener(params, client_id):
  return tf.data.Dataset.range(params['start'], int(client_id))


dataset_sources.register_opener('test_range', _range_opener)


def _sources_request(client_ids, batch_size=0):
  """federated_map(_sum_elements) over datasets sent as their sources."""
  parameter = ct.StructType([(None, CLIENTS_I64_SEQ)])
  map_type = ct.FunctionType(
      ct.StructType([(None, ct.FunctionType(ct.SequenceType(I64), I64)),
                     (None, CLIENTS_I64_SEQ)]), ct.type_at_clients(I64))
  function = bb.Lambda('p', parameter, bb.Call(
      bb.Intrinsic('federated_map', map_type),
      bb.Struct([_sum_elements.to_building_block(),
                 bb.Selection(bb.Reference('p', parameter), index=0)])))
  run = remote_pb2.RunRequest(
      num_clients=len(client_ids),
      function=serialization.serialize_building_block(function))
  sources = run.argument.add().dataset_sources
  type_serialization.write_type(CLIENTS_I64_SEQ, sources.type)
  sources.kind = 'test_range'
  sources.params_json = '{"start": 1}'
  sources.batch_size = batch_size
  sources.client_id.extend(client_ids)
  return remote_pb2.WorkerRequest(session='s', run=run)


def _service(**kwargs):
  return worker_service.WorkerService(reference_executor.ReferenceExecutor(),
                                      **kwargs)


class DatasetSourcesTest(absltest.TestCase):

  def test_worker_opens_datasets_from_their_sources(self):
    service = _service(open_dataset_sources=True)

    response = service.handle(_sources_request(['3', '5']))

    value, _ = value_serialization.deserialize_value(response.value)
    self.assertEqual([int(m) for m in value.members], [1 + 2, 1 + 2 + 3 + 4])

  def test_worker_refuses_sources_unless_told_to_open_them(self):
    service = _service()

    response = service.handle(_sources_request(['3']))

    self.assertEqual(response.error.kind, 'ValueError')
    self.assertIn('does not open client datasets from their sources',
                  response.error.message)

  def test_worker_refuses_sources_of_the_wrong_element_type(self):
    service = _service(open_dataset_sources=True)

    response = service.handle(_sources_request(['3'], batch_size=2))

    self.assertEqual(response.error.kind, 'ValueError')
    self.assertIn("client '3' opened from its 'test_range' source",
                  response.error.message)

  def test_execute_bytes_refuses_oversized_request(self):
    service = _service(max_request_mb=1e-4)

    with self.assertRaises(errors.MessageTooLargeError):
      service.execute_bytes(b'x' * 1000)

  def test_execute_bytes_answers_a_serialized_request(self):
    service = _service()

    data = service.execute_bytes(_map_request([1.0]).SerializeToString())

    self.assertEqual(_members(remote_pb2.WorkerResponse.FromString(data)),
                     [2.0])


class WorkerServiceTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.executor = _RecordingExecutor()
    self.service = worker_service.WorkerService(self.executor)

  def test_run_returns_result_when_not_stored(self):
    response = self.service.handle(_map_request([1.0, 2.0]))

    self.assertEqual(_members(response), [2.0, 3.0])

  def test_run_stores_result_for_fetch_until_release(self):
    stored = self.service.handle(_map_request([1.0, 5.0], 'v0'))

    fetched = self.service.handle(remote_pb2.WorkerRequest(
        session='s', fetch=remote_pb2.FetchRequest(handle='v0')))
    released = self.service.handle(remote_pb2.WorkerRequest(
        session='s', release=remote_pb2.ReleaseRequest()))
    after = self.service.handle(remote_pb2.WorkerRequest(
        session='s', fetch=remote_pb2.FetchRequest(handle='v0')))

    self.assertEqual(stored.stored.num_members, 2)
    self.assertEqual(_members(fetched), [2.0, 6.0])
    self.assertTrue(released.released)
    self.assertEqual(after.error.kind, 'UnknownHandleError')
    self.assertIn("no value 'v0'", after.error.message)

  def test_sessions_do_not_see_each_others_values(self):
    self.service.handle(_map_request([1.0], 'v0', session='a'))

    response = self.service.handle(remote_pb2.WorkerRequest(
        session='b', fetch=remote_pb2.FetchRequest(handle='v0')))

    self.assertEqual(response.error.kind, 'UnknownHandleError')

  def test_aggregate_returns_partial_sum_of_stored_value(self):
    self.service.handle(_map_request([1.0, 2.0, 3.0], 'v0'))
    request = remote_pb2.WorkerRequest(
        session='s', aggregate=remote_pb2.AggregateRequest(
            kind='sum', value=remote_pb2.Argument(handle='v0')))

    response = self.service.handle(request)

    value, _ = value_serialization.deserialize_value(response.value)
    total = aggregations.Sum(F32, 'federated_sum')
    self.assertEqual(total.finalize(total.from_wire(value)), np.float32(9.0))

  def test_aggregate_refuses_weights_not_one_per_client(self):
    self.service.handle(_map_request([1.0, 2.0, 3.0], 'v0'))
    self.service.handle(_map_request([1.0, 2.0], 'w0'))
    request = remote_pb2.WorkerRequest(
        session='s', aggregate=remote_pb2.AggregateRequest(
            kind='weighted_sum', value=remote_pb2.Argument(handle='v0'),
            weight=remote_pb2.Argument(handle='w0')))

    response = self.service.handle(request)

    self.assertEqual(response.error.kind, 'ValueError')
    self.assertIn('one weight per client (3), found 2',
                  response.error.message)

  def test_disallowed_graph_is_refused_before_anything_runs(self):
    py_function = tfc.tf_computation(
        lambda x: tf.reshape(tf.numpy_function(lambda v: v, [x], tf.float32),
                             []), np.float32)
    request = _map_request([1.0], fn=py_function)

    response = self.service.handle(request)

    self.assertEqual(response.error.kind, 'DisallowedOpError')
    self.assertIn("'PyFunc'", response.error.message)
    self.assertEqual(self.executor.runs, 0)

  def test_disallowed_dataset_graph_is_refused_before_anything_runs(self):
    request = _map_request([1.0])
    graphs = remote_pb2.DatasetGraphs(graph_def=[
        tf.raw_ops.DatasetToGraphV2(input_dataset=tf.data.experimental
                                    .to_variant(tf.data.TFRecordDataset(
                                        '/etc/passwd'))).numpy()])
    type_serialization.write_type(
        ct.type_at_clients(ct.SequenceType(np.str_)), graphs.type)
    request.run.argument[0].dataset_graphs.CopyFrom(graphs)

    response = self.service.handle(request)

    self.assertEqual(response.error.kind, 'DisallowedOpError')
    self.assertIn("'TFRecordDataset'", response.error.message)
    self.assertEqual(self.executor.runs, 0)

  def test_run_refuses_argument_with_wrong_number_of_clients(self):
    request = _map_request([1.0, 2.0])
    request.run.num_clients = 3

    response = self.service.handle(request)

    self.assertEqual(response.error.kind, 'ValueError')
    self.assertIn('one member per client (3), found 2', response.error.message)

  @parameterized.named_parameters(
      ('no_session', remote_pb2.WorkerRequest(
          fetch=remote_pb2.FetchRequest(handle='v0')), 'with a session'),
      ('no_operation', remote_pb2.WorkerRequest(session='s'),
       'one of the operations'),
      ('unknown_kind', remote_pb2.WorkerRequest(
          session='s', aggregate=remote_pb2.AggregateRequest(
              kind='median', value=remote_pb2.Argument(
                  value=value_serialization.serialize_value(
                      federated_value.FederatedValue(
                          CLIENTS_F32, [np.float32(1)]), CLIENTS_F32)))),
       "'median'"),
  )
  def test_bad_request_gets_error_response(self, request, message):
    response = self.service.handle(request)

    self.assertEqual(response.error.kind, 'ValueError')
    self.assertIn(message, response.error.message)

  def test_health_counts_nothing_before_calls(self):
    health = self.service.health()

    self.assertEqual(health.finished_calls, 0)
    self.assertEqual(health.executor, '_RecordingExecutor')
    self.assertEqual(health.max_message_bytes, 4 * wire.MB)

  def test_refuses_non_positive_limits(self):
    with self.assertRaisesRegex(ValueError, 'max_concurrent'):
      worker_service.WorkerService(self.executor,
                                   max_concurrent_computation_calls=0)


class SecurityTest(parameterized.TestCase):
  """A real worker with a token, 1 MB messages and 4 MB requests."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.TemporaryDirectory()
    token_file = os.path.join(cls._tmp.name, 'token')
    with open(token_file, 'w') as f:
      f.write(_TOKEN + '\n')
    cls.worker = worker_processes.WorkerProcess(
        [f'--auth_token_file={token_file}', '--max_message_mb=1',
         '--max_request_mb=4'], auth_token=_TOKEN).start()

  @classmethod
  def tearDownClass(cls):
    cls.worker.close()
    cls._tmp.cleanup()
    super().tearDownClass()

  def context(self, **kwargs):
    kwargs.setdefault('auth_token', _TOKEN)
    context = remote.create_remote_execution_context(
        [self.worker.target], max_message_mb=1, **kwargs)
    self.addCleanup(context.executor.close)
    return context

  def finished_calls(self):
    connection = transport.WorkerConnection(self.worker.target,
                                            auth_token=_TOKEN)
    self.addCleanup(connection.close)
    return connection.health(timeout=30).finished_calls

  def raw_channel(self):
    channel = grpc.insecure_channel(self.worker.target)
    self.addCleanup(channel.close)
    return channel

  def assert_still_serving(self):
    with self.context():
      self.assertEqual(programs.weighted_mean([1.0, 3.0], [1, 1]), 2.0)

  def test_graph_with_python_function_is_refused_naming_op(self):

    @fc.federated_computation(CLIENTS_F32)
    def comp(x):
      return intrinsics.federated_map(
          tfc.tf_computation(
              lambda v: tf.numpy_function(lambda a: a, [v], tf.float32),
              np.float32), x)

    with self.context():
      with self.assertRaisesRegex(
          errors.DisallowedOpError,
          rf"'PyFunc'.*Python.*\[on worker {self.worker.target}\]"):
        comp([1.0, 2.0])

  def test_graph_writing_a_file_is_refused_and_nothing_is_written(self):
    path = os.path.join(self.create_tempdir().full_path, 'written')

    def write(x):
      with tf.control_dependencies([tf.io.write_file(path, 'pwned')]):
        return x + 1.0

    @fc.federated_computation(CLIENTS_F32)
    def comp(x):
      return intrinsics.federated_map(tfc.tf_computation(write, np.float32), x)

    with self.context():
      with self.assertRaisesRegex(errors.DisallowedOpError, "'WriteFile'"):
        comp([1.0])
    self.assertFalse(os.path.exists(path))

  @parameterized.named_parameters(('no_token', None), ('wrong_token', 'guess'))
  def test_call_without_the_token_is_unauthenticated_and_runs_nothing(
      self, token):
    before = self.finished_calls()

    with self.context(auth_token=token):
      with self.assertRaises(errors.WorkerRefusedError) as raised:
        programs.fed_avg_round(*programs.fed_avg_arguments(2))

    self.assertEqual(raised.exception.code, 'UNAUTHENTICATED')
    self.assertEqual(self.finished_calls(), before)

  def test_raw_execute_without_token_is_unauthenticated(self):
    before = self.finished_calls()
    execute = self.raw_channel().stream_stream(
        wire.method_path(wire.EXECUTE_METHOD))
    request = _map_request([1.0]).SerializeToString()

    with self.assertRaises(grpc.RpcError) as raised:
      list(execute(wire.to_chunks(request, 1000), timeout=30))

    self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
    self.assertEqual(self.finished_calls(), before)

  def test_oversized_request_is_refused_and_worker_keeps_serving(self):
    tensor = ct.TensorType(np.float32, [1_500_000])
    big = np.zeros(1_500_000, np.float32)  # 6 MB; the limit is 4 MB.

    @fc.federated_computation(ct.type_at_clients(tensor))
    def total(x):
      return intrinsics.federated_sum(intrinsics.federated_map(
          tfc.tf_computation(lambda v: v + 1.0, tensor), x))

    with self.context():
      with self.assertRaisesRegex(
          errors.WorkerRefusedError,
          r'RESOURCE_EXHAUSTED: The request has \d+ bytes.*limit'):
        total([big])
    self.assert_still_serving()

  def test_message_over_grpc_limit_is_refused_and_worker_keeps_serving(self):
    health = self.raw_channel().unary_unary(
        wire.method_path(wire.HEALTH_METHOD))

    with self.assertRaises(grpc.RpcError) as raised:
      health(b'\0' * (2 * wire.MB), timeout=30,
             metadata=auth.token_metadata(_TOKEN))

    self.assertEqual(raised.exception.code(),
                     grpc.StatusCode.RESOURCE_EXHAUSTED)
    self.assert_still_serving()

  @parameterized.named_parameters(
      ('garbage_chunk', [b'\xff\xfe\xfd'], 'Cannot parse chunk 0'),
      ('garbage_request', list(wire.to_chunks(b'\xff\xfe\xfd', 100)),
       'Cannot parse the request'),
      ('truncated', [remote_pb2.Chunk(data=b'ab', total_size=10)
                     .SerializeToString()], 'after 2 of the 10 bytes'),
  )
  def test_malformed_request_is_refused_and_worker_keeps_serving(
      self, chunks, message):
    execute = self.raw_channel().stream_stream(
        wire.method_path(wire.EXECUTE_METHOD))

    with self.assertRaises(grpc.RpcError) as raised:
      list(execute(iter(chunks), timeout=30,
                   metadata=auth.token_metadata(_TOKEN)))

    self.assertEqual(raised.exception.code(),
                     grpc.StatusCode.INVALID_ARGUMENT)
    self.assertIn(message, raised.exception.details())
    self.assert_still_serving()

  def test_value_larger_than_message_limit_travels_in_chunks(self):
    size = 700_000  # 2.8 MB per client value; messages are 1 MB at most.
    tensor = ct.TensorType(np.float32, [size])

    @fc.federated_computation(ct.type_at_clients(tensor))
    def add_one(x):
      return intrinsics.federated_map(
          tfc.tf_computation(lambda v: v + 1.0, tensor), x)

    value = np.arange(size, dtype=np.float32)

    with self.context():
      result = add_one([value])

    np.testing.assert_array_equal(result[0], value + 1.0)


class TlsTest(absltest.TestCase):
  """A real worker that requires TLS client certificates."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.TemporaryDirectory()
    cls.files = worker_processes.make_tls_files(cls._tmp.name)
    cls.worker = None
    if cls.files is None:
      return
    cls.client_tls = auth.TlsFiles(cert=cls.files['client_cert'],
                                   key=cls.files['client_key'],
                                   ca=cls.files['ca'])
    cls.worker = worker_processes.WorkerProcess(
        [f'--tls_cert={cls.files["worker_cert"]}',
         f'--tls_key={cls.files["worker_key"]}',
         f'--tls_ca={cls.files["ca"]}'], tls=cls.client_tls).start()

  @classmethod
  def tearDownClass(cls):
    if cls.worker is not None:
      cls.worker.close()
    cls._tmp.cleanup()
    super().tearDownClass()

  def setUp(self):
    super().setUp()
    if self.worker is None:
      self.skipTest('Needs the openssl command to make certificates.')

  def finished_calls(self):
    connection = transport.WorkerConnection(self.worker.target,
                                            tls=self.client_tls)
    self.addCleanup(connection.close)
    return connection.health(timeout=30).finished_calls

  def test_client_with_certificate_runs_computations(self):
    context = remote.create_remote_execution_context(
        [self.worker.target], tls_ca=self.files['ca'],
        tls_cert=self.files['client_cert'],
        tls_key=self.files['client_key'])
    self.addCleanup(context.executor.close)

    with context:
      result = programs.weighted_mean([1.0, 4.0], [3, 1])

    self.assertEqual(result, 1.75)

  def test_client_without_certificate_is_refused_and_nothing_runs(self):
    before = self.finished_calls()
    context = remote.create_remote_execution_context(
        [self.worker.target], tls_ca=self.files['ca'],
        health_timeout_seconds=10)
    self.addCleanup(context.executor.close)

    with context:
      with self.assertRaisesRegex(
          errors.NoLiveWorkersError,
          f'{self.worker.target}.*UNAVAILABLE.*Tip: .*client certificate'):
        programs.weighted_mean([1.0, 4.0], [3, 1])

    self.assertEqual(self.finished_calls(), before)

  def test_plaintext_client_is_refused(self):
    connection = transport.WorkerConnection(self.worker.target)
    self.addCleanup(connection.close)

    with self.assertRaises(errors.WorkerUnavailableError):
      connection.health(timeout=10)


if __name__ == '__main__':
  absltest.main()
