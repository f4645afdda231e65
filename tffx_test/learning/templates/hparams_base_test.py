import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import tensorflow_computation
from tffx.learning.templates import hparams_base
from tffx.types import computation_types as ct

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation

_STATE = ct.to_type(collections.OrderedDict(lr=np.float32, step=np.int32))
_HPARAMS = ct.to_type(collections.OrderedDict(lr=np.float32))

_get = fc(lambda s: collections.OrderedDict(lr=s.lr), _STATE)
_set = tf_computation(
    lambda s, h: collections.OrderedDict(lr=h['lr'], step=s['step']), _STATE,
    _HPARAMS)


class TypeCheckTest(parameterized.TestCase):

  def test_accepts_matching_computations(self):

    hparams_base.type_check_get_hparams_fn(_get, _STATE)
    hparams_base.type_check_set_hparams_fn(_set, _STATE, _HPARAMS)

  @parameterized.named_parameters(
      ('other_state', fc(lambda s: s, np.int32)),
      ('no_argument', fc(lambda: 0.0)),
  )
  def test_get_raises_get_hparams_type_error(self, get_fn):

    with self.assertRaisesRegex(hparams_base.GetHparamsTypeError,
                                r'\(S -> H\) with the \(unplaced\) state S'):
      hparams_base.type_check_get_hparams_fn(get_fn, _STATE)

  @parameterized.named_parameters(
      ('one_argument', fc(lambda s: s, _STATE), None),
      ('other_state', fc(lambda s, h: s, np.int32, _HPARAMS), None),
      ('returns_hparams', fc(lambda s, h: h, _STATE, _HPARAMS), None),
      ('other_hparams', fc(lambda s, h: s, _STATE, np.str_), _HPARAMS),
  )
  def test_set_raises_set_hparams_type_error(self, set_fn, hparams_type):

    with self.assertRaises(hparams_base.SetHparamsTypeError):
      hparams_base.type_check_set_hparams_fn(set_fn, _STATE, hparams_type)

  @parameterized.named_parameters(
      ('get', hparams_base.type_check_get_hparams_fn),
      ('set', hparams_base.type_check_set_hparams_fn),
  )
  def test_raises_type_error_for_non_computation(self, check):

    with self.assertRaises(TypeError) as cm:
      check(lambda s: s, _STATE)

    self.assertIs(type(cm.exception), TypeError)


class BuildHparamsFnsTest(parameterized.TestCase):

  def test_defaults_have_empty_hparams(self):

    get_fn, set_fn = hparams_base.build_hparams_fns(_STATE, None, None)

    self.assertEqual(get_fn.type_signature.parameter, _STATE)
    self.assertEqual(get_fn.type_signature.result,
                     ct.to_type(collections.OrderedDict()))
    self.assertEqual(str(set_fn.type_signature),
                     '(<state=<lr=float32,step=int32>,hparams=<>> -> '
                     '<lr=float32,step=int32>)')

  def test_given_computations_are_kept(self):

    get_fn, set_fn = hparams_base.build_hparams_fns(_STATE, _get, _set)

    self.assertIs(get_fn, _get)
    self.assertIs(set_fn, _set)

  def test_default_setter_takes_type_of_given_getter(self):

    _, set_fn = hparams_base.build_hparams_fns(_STATE, _get, None)

    self.assertTrue(set_fn.type_signature.parameter[1].is_equivalent_to(
        _HPARAMS))

  def test_given_setter_with_default_getter_is_accepted(self):

    get_fn, set_fn = hparams_base.build_hparams_fns(_STATE, None, _set)

    self.assertLen(get_fn.type_signature.result, 0)
    self.assertIs(set_fn, _set)

  def test_raises_set_hparams_type_error_when_setter_rejects_getter_result(
      self):
    get_fn = fc(lambda s: collections.OrderedDict(step=s.step), _STATE)

    with self.assertRaisesRegex(hparams_base.SetHparamsTypeError,
                                r'returned by `get_hparams_fn`'):
      hparams_base.build_hparams_fns(_STATE, get_fn, _set)


class _WithHparams(hparams_base.HparamsMixin):

  def __init__(self, get_hparams_fn=None, set_hparams_fn=None):
    self._init_hparams(_STATE, get_hparams_fn, set_hparams_fn)


class HparamsMixinTest(absltest.TestCase):

  def test_properties_return_given_computations(self):

    template = _WithHparams(_get, _set)

    self.assertIs(template.get_hparams, _get)
    self.assertIs(template.set_hparams, _set)

  def test_properties_return_defaults_without_computations(self):

    template = _WithHparams()

    self.assertEqual(template.get_hparams.type_signature.parameter, _STATE)
    self.assertLen(template.get_hparams.type_signature.result, 0)
    self.assertEqual(template.set_hparams.type_signature.result, _STATE)

  def test_init_raises_get_hparams_type_error_for_wrong_getter(self):
    get_fn = fc(lambda x: x, ct.TensorType(np.str_))

    with self.assertRaises(hparams_base.GetHparamsTypeError):
      _WithHparams(get_fn, _set)


class DefaultsExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_default_getter_and_setter_run(self):
    get_fn, set_fn = hparams_base.build_hparams_fns(_STATE, None, None)
    state = collections.OrderedDict(lr=np.float32(0.5), step=np.int32(3))

    hparams = get_fn(state)
    new_state = set_fn(state, hparams)

    self.assertEqual(hparams, collections.OrderedDict())
    self.assertEqual(float(new_state['lr']), 0.5)
    self.assertEqual(int(new_state['step']), 3)


if __name__ == '__main__':
  absltest.main()
