"""MapReduceForm and BroadcastForm: construction checks and accessors."""

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.backends import mapreduce


@tff.tf_computation(np.int32)
def _prepare(state):
  return state + 1


@tff.tf_computation(np.int32, np.int32)
def _work(data, client_input):
  return data * client_input, (), (), ()


@tff.tf_computation
def _zero():
  return np.int32(0)


@tff.tf_computation(np.int32, np.int32)
def _accumulate(total, value):
  return total + value


@tff.tf_computation(np.int32)
def _report(total):
  return total


@tff.tf_computation
def _no_bounds():
  return ()


@tff.tf_computation(np.int32, (np.int32, (), (), ()))
def _update(state, aggregates):
  return state + aggregates[0], aggregates[0]


_ROUND_TYPE = tff.FunctionType(
    tff.StructType([('state', tff.FederatedType(np.int32, tff.SERVER)),
                    ('data', tff.FederatedType(np.int32, tff.CLIENTS))]),
    tff.StructType([tff.FederatedType(np.int32, tff.SERVER)] * 2))


def _form(**overrides):
  components = dict(
      type_signature=_ROUND_TYPE,
      prepare=_prepare,
      work=_work,
      zero=_zero,
      accumulate=_accumulate,
      merge=_accumulate,
      report=_report,
      secure_sum_bitwidth=_no_bounds,
      secure_sum_max_input=_no_bounds,
      secure_modular_sum_modulus=_no_bounds,
      update=_update)
  components.update(overrides)
  return mapreduce.MapReduceForm(**components)


class MapReduceFormTest(absltest.TestCase):

  def test_hand_written_form_runs_as_its_computation(self):
    mrf = _form()

    round_comp = mapreduce.get_computation_for_map_reduce_form(mrf)

    self.assertEqual([int(v) for v in round_comp(2, [1, 2, 3])], [20, 18])
    self.assertEqual((mrf.server_state_label, mrf.client_data_label),
                     ('state', 'data'))
    self.assertIs(mrf.work, _work)
    self.assertEqual(mrf.type_signature, _ROUND_TYPE)
    self.assertFalse(mrf.securely_aggregates_tensors)

  def test_summary_prints_each_component(self):
    lines = []

    _form().summary(print_fn=lines.append)

    self.assertLen(lines, 10)
    self.assertEqual(lines[0], 'prepare                   : (int32 -> int32)')
    self.assertTrue(lines[-1].startswith('update                    : '))

  def test_federated_component_raises_type_error(self):

    @tff.federated_computation(tff.FederatedType(np.int32, tff.SERVER))
    def placed(state):
      return state

    with self.assertRaisesRegex(TypeError, 'no federated types'):
      _form(prepare=placed)

  def test_not_a_computation_raises_type_error(self):
    with self.assertRaises(TypeError):
      _form(zero=lambda: 0)

  def test_work_not_taking_prepare_result_raises_type_error(self):

    @tff.tf_computation(np.int32)
    def prepare_float(state):
      return np.float32(1.0)

    with self.assertRaisesRegex(TypeError, 'result type float32 of `prepare`'):
      _form(prepare=prepare_float)

  def test_work_with_three_results_raises_type_error(self):

    @tff.tf_computation(np.int32, np.int32)
    def work(data, client_input):
      return data, (), ()

    with self.assertRaisesRegex(TypeError, 'not a tuple of length 4'):
      _form(work=work)

  def test_update_not_taking_report_result_raises_type_error(self):

    @tff.tf_computation(np.int32)
    def report(total):
      return np.float32(1.0)

    with self.assertRaisesRegex(TypeError, '`update` computation expects'):
      _form(report=report)


class BroadcastFormTest(absltest.TestCase):

  def test_mismatched_context_raises_type_error(self):

    @tff.tf_computation(np.float32, np.int32)
    def client_processing(context, data):
      return data

    with self.assertRaisesRegex(TypeError, 'context type from the'):
      mapreduce.BroadcastForm(_prepare, client_processing)

  def test_accessors_return_the_components(self):

    @tff.tf_computation(np.int32, np.int32)
    def client_processing(context, data):
      return context * data

    bf = mapreduce.BroadcastForm(_prepare, client_processing, 's', 'd')
    round_comp = mapreduce.get_computation_for_broadcast_form(bf)

    self.assertIs(bf.client_processing, client_processing)
    self.assertEqual([int(v) for v in round_comp(1, [3, 4])], [6, 8])
    self.assertEqual(str(round_comp.type_signature),
                     '(<s=int32@SERVER,d={int32}@CLIENTS> -> {int32}@CLIENTS)')


class DistributeAggregateFormTest(absltest.TestCase):

  def test_mismatched_phases_raise_type_error(self):
    daf = mapreduce.get_distribute_aggregate_form_for_computation(
        mapreduce.get_computation_for_map_reduce_form(_form()))

    with self.assertRaisesRegex(TypeError, '`client_work` computation'):
      mapreduce.DistributeAggregateForm(
          daf.type_signature, daf.server_prepare,
          daf.server_to_client_broadcast, daf.client_to_server_aggregation,
          daf.client_to_server_aggregation, daf.server_result)

  def test_accessors_and_summary(self):
    daf = mapreduce.get_distribute_aggregate_form_for_computation(
        mapreduce.get_computation_for_map_reduce_form(_form()))
    lines = []

    daf.summary(print_fn=lines.append)

    self.assertEqual([line.split(':')[0].strip() for line in lines], [
        'server_prepare', 'server_to_client_broadcast', 'client_work',
        'client_to_server_aggregation', 'server_result'
    ])
    self.assertEqual(daf.type_signature, _ROUND_TYPE)


if __name__ == '__main__':
  absltest.main()
