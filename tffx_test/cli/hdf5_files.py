"""Tiny HDF5 files in TensorFlow Federated's EMNIST layout, for tests.

    write_emnist_like(path)   examples/f0000_00/{pixels [4, 28, 28], label [4]}
                              and two more clients (2 and 3 examples)

Labels cycle 0, 1, 2 unless given, so the files have three classes.
"""

import h5py
import numpy as np


def write_emnist_like(path, num_clients=3, examples=(4, 2, 3), labels=None):
  """Writes `num_clients` clients of random float32 pixels; returns `path`.

  Args:
    path: The file to write.
    num_clients: How many clients, named `f0000_00`, `f0001_00`, ...
    examples: The number of examples of each client.
    labels: Optional list of each client's labels; default `arange(n) % 3`.
  """
  rng = np.random.default_rng(0)
  with h5py.File(path, 'w') as f:
    group = f.create_group('examples')
    for k in range(num_clients):
      n = examples[k]
      client = group.create_group(f'f{k:04d}_00')
      client.create_dataset('pixels', data=rng.random((n, 28, 28),
                                                      dtype=np.float32))
      client_labels = np.arange(n) % 3 if labels is None else labels[k]
      client.create_dataset('label', data=np.asarray(client_labels, np.int32))
  return path
