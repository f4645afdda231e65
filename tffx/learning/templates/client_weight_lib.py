"""`ClientWeighting`: how much each client's update counts in an aggregate.

Weighted algorithms (`build_weighted_fed_avg`, ...) take either a member of
`ClientWeighting` or a function of a client's unfinalized metrics that
returns its weight (a float32 scalar), e.g.

    client_weighting=lambda metrics: tf.cast(metrics['num_batches'], tf.float32)

This module only names the choices; the client work computes the weights.
"""

import enum


class ClientWeighting(enum.Enum):
  """The built-in client weightings (as `tff.learning.ClientWeighting`).

  Attributes:
    UNIFORM: Every client's update has weight 1.
    NUM_EXAMPLES: A client's update is weighted by its number of examples.
  """
  UNIFORM = 1
  NUM_EXAMPLES = 2
