"""`HierarchicalHistogramDecoder`: node, range and quantile queries on a tree.

The tree is what `build_hierarchical_histogram_process` returns: layers from
the root (one node) to the bins, each node the sum of its `arity` children.
Queries read it in NumPy; `enforce_consistency` makes a noisy tree
consistent again (each node the sum of its children), which an exact tree
already is.
"""

from typing import Sequence, Union

import numpy as np
import tensorflow as tf


def _layers(tree) -> list[np.ndarray]:
  if isinstance(tree, tf.RaggedTensor):
    tree = tree.to_list()
  layers = [np.asarray(layer, dtype=np.float64).reshape(-1) for layer in tree]
  if not layers or layers[0].shape != (1,):
    raise ValueError('The hierarchical histogram must start with a root '
                     f'layer of one node; got layer sizes '
                     f'{[layer.size for layer in layers]}.')
  arity = layers[1].size if len(layers) > 1 else 2
  for upper, lower in zip(layers, layers[1:]):
    if lower.size != upper.size * arity:
      raise ValueError(
          f'Each layer of the hierarchical histogram must have arity '
          f'({arity}) times the nodes of the one above; got layer sizes '
          f'{[layer.size for layer in layers]}.')
  return layers


class HierarchicalHistogramDecoder:
  """Answers queries on a hierarchical histogram.

  `tree[i][j]` is the j-th node of layer i (layer 0 is the root); the last
  layer holds the bins of `[lower_bound, upper_bound]`.
  """

  def __init__(self,
               hierarchical_histogram: Union[tf.RaggedTensor,
                                             Sequence[Sequence[float]]],
               lower_bound: float,
               upper_bound: float,
               use_efficient: bool = False):
    """Initializes the decoder.

    Args:
      hierarchical_histogram: The tree, a `tf.RaggedTensor` (as TFF's) or the
        sequence of layers `build_hierarchical_histogram_process` returns.
      lower_bound: The lower bound of the data.
      upper_bound: The upper bound of the data.
      use_efficient: Whether range queries combine each node with its
        children's sum (the inverse-variance weights of the efficient tree
        estimator for equal noise per node); equal to the plain answer on an
        exact tree.

    Raises:
      ValueError: if the tree is not a tree of one arity, or
        `lower_bound >= upper_bound`.
    """
    if not lower_bound < upper_bound:
      raise ValueError(f'lower_bound must be smaller than upper_bound, got '
                       f'{lower_bound} and {upper_bound}.')
    self._tree = _layers(hierarchical_histogram)
    self._arity = self._tree[1].size if len(self._tree) > 1 else 2
    self._lower_bound = lower_bound
    self._upper_bound = upper_bound
    self._use_efficient = use_efficient

  @property
  def _num_leaves(self) -> int:
    return self._tree[-1].size

  def _check_index(self, layer: int, index: int):
    if not 0 <= layer < len(self._tree):
      raise ValueError(f'layer must be in [0, {len(self._tree) - 1}], got '
                       f'{layer}.')
    if not 0 <= index < self._tree[layer].size:
      raise ValueError(f'index must be in [0, {self._tree[layer].size - 1}] '
                       f'on layer {layer}, got {index}.')

  def node_query(self, layer: int, index: int) -> float:
    """The value of node `index` of `layer`.

    Raises:
      ValueError: if `layer` or `index` is out of range.
    """
    self._check_index(layer, index)
    if self._use_efficient:
      return self._efficient_with_variance(layer, index)[0]
    return float(self._tree[layer][index])

  def _efficient_with_variance(self, layer: int, index: int):
    """A node estimated from itself and its subtree, and its variance.

    With unit noise variance per node, a node and its children's sum are two
    estimates of one count; combining them inverse-variance weighted,
    bottom-up, gives the efficient estimator.
    """
    if layer == len(self._tree) - 1:
      return float(self._tree[layer][index]), 1.0
    children = [self._efficient_with_variance(layer + 1, c) for c in range(
        index * self._arity, (index + 1) * self._arity)]
    child_sum = sum(e for e, _ in children)
    child_variance = sum(v for _, v in children)
    weight = child_variance / (1.0 + child_variance)
    estimate = weight * float(self._tree[layer][index]) + (
        1 - weight) * child_sum
    return estimate, child_variance / (1.0 + child_variance)

  def range_query(self, left: int, right: int) -> float:
    """The count of the bins `left..right` (both included).

    The range is covered by the fewest tree nodes (at most `2 * (arity - 1)`
    per layer), as the tree is built for.

    Raises:
      ValueError: if `left > right` or either is not a bin index.
    """
    if not 0 <= left <= right < self._num_leaves:
      raise ValueError(f'left and right must satisfy 0 <= left <= right <= '
                       f'{self._num_leaves - 1}, got {left} and {right}.')
    return self._cover(0, 0, left, right + 1)

  def _cover(self, layer: int, index: int, start: int, stop: int) -> float:
    """The sum of bins [start, stop) within node (layer, index)."""
    width = self._num_leaves // self._tree[layer].size
    node_start = index * width
    if start <= node_start and node_start + width <= stop:
      return self.node_query(layer, index)
    total = 0.0
    for child in range(index * self._arity, (index + 1) * self._arity):
      child_start = child * (width // self._arity)
      if child_start < stop and start < child_start + width // self._arity:
        total += self._cover(layer + 1, child, start, stop)
    return total

  def quantile_query(self, q: float) -> float:
    """The value below which a fraction `q` of the records lie.

    The answer is the lower edge of the first bin at which the running count
    of the bins reaches `q` times the total count (a bin's records are all
    placed at its lower edge).

    Raises:
      ValueError: if `q` is not in [0, 1].
    """
    if not 0.0 <= q <= 1.0:
      raise ValueError(f'q must be in [0, 1], got {q}.')
    leaves = np.array([self.node_query(len(self._tree) - 1, i)
                       for i in range(self._num_leaves)])
    target = q * leaves.sum()
    index = int(np.searchsorted(np.cumsum(leaves), target, side='left'))
    index = min(index, self._num_leaves - 1)
    width = (self._upper_bound - self._lower_bound) / self._num_leaves
    return self._lower_bound + index * width

  def enforce_consistency(self):
    """Makes every node the sum of its children, closest in least squares.

    Two passes over the tree (Hay et al., "Boosting the accuracy of
    differentially private histograms through consistency"): bottom-up
    weighted averages of each node with its children's sum, then top-down
    sharing of each parent's surplus among its children. Sets
    `use_efficient` to False, as TFF does. An exact tree stays as it is.
    """
    k, height = self._arity, len(self._tree)
    smoothed = [layer.copy() for layer in self._tree]
    for layer in range(height - 2, -1, -1):
      level = height - layer  # Leaves are level 1.
      weight = (k**level - k**(level - 1)) / (k**level - 1)
      child_sums = smoothed[layer + 1].reshape(-1, k).sum(axis=1)
      smoothed[layer] = (weight * self._tree[layer] +
                         (1 - weight) * child_sums)
    consistent = [smoothed[0]]
    for layer in range(1, height):
      parent = np.repeat(consistent[-1], k)
      siblings = np.repeat(smoothed[layer].reshape(-1, k).sum(axis=1), k)
      consistent.append(smoothed[layer] + (parent - siblings) / k)
    self._tree = consistent
    self._use_efficient = False
