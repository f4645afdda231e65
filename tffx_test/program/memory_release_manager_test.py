import collections

from absl.testing import absltest
import numpy as np

from tffx.program import memory_release_manager
from tffx.program import native_platform
from tffx.types import computation_types as ct


class MemoryReleaseManagerTest(absltest.TestCase):

  def test_values_in_release_order_with_references_materialized(self):
    manager = memory_release_manager.MemoryReleaseManager()
    reference = native_platform.NativeValueReference(
        np.int32(4), ct.TensorType(np.int32))

    manager.release(collections.OrderedDict(loss=reference), 2)
    manager.release('first', 1)
    manager.release('replaced', 2)

    self.assertEqual(list(manager.values().items()),
                     [(2, 'replaced'), (1, 'first')])

  def test_materializes_reference_leaves(self):
    manager = memory_release_manager.MemoryReleaseManager()
    reference = native_platform.NativeValueReference(
        np.int32(4), ct.TensorType(np.int32))

    manager.release([reference], 'k')

    self.assertEqual(manager.values()['k'], [4])

  def test_remove_all_forgets_values(self):
    manager = memory_release_manager.MemoryReleaseManager()
    manager.release(1, 1)

    manager.remove_all()

    self.assertEmpty(manager.values())

  def test_raises_type_error_for_unhashable_key(self):
    with self.assertRaises(TypeError):
      memory_release_manager.MemoryReleaseManager().release(1, [1])


if __name__ == '__main__':
  absltest.main()
