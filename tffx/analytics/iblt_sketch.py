"""An invertible Bloom lookup table (IBLT) of strings, in TensorFlow ops.

The sketch holds, for `repetitions` independent hash functions, a table of
`table_size` cells; each cell sums, over the strings hashed to it:

    sketch[r, h, :num_chunks]  the strings' byte chunks    (mod FIELD_SIZE)
    sketch[r, h, num_chunks]   their counts                (mod FIELD_SIZE)
    sketch[r, h, num_chunks+1] their check hashes          (mod FIELD_SIZE)
    values[r, h, :]            their value vectors         (plain int64 sums)

Each record `(s, v)` adds `chunks(s)`, 1, `check(s)` and `v` to its cell in
every repetition, so a cell holding one distinct string `s` with count `c`
holds `c * chunks(s)` and `c * check(s)`: dividing by `c` in the field gives
`s` back, and the check tells such a pure cell from a mixed one. Sketches
add element-wise (then `reduce_field`), so clients' sketches are summed with
any sum aggregation.

Decoding peels: find the pure cells of one repetition, read their strings,
subtract those strings (with their counts and values) from every repetition,
and go on while any repetition yields a pure cell. What is left undecoded
(the table was too small for the number of distinct strings) is reported as
a count.

Chunk 0 of a string is its length in bytes, so strings ending in zero bytes
decode exactly; then three bytes per chunk, so that chunks stay below the
field size. This module does not aggregate or clip; see `iblt_factory`.
"""

import enum
import math

import tensorflow as tf

# A prime; sums of two field elements, and products, fit in int64.
FIELD_SIZE = 2**31 - 1
DEFAULT_REPETITIONS = 3
_BYTES_PER_CHUNK = 3
# Key offsets of tf.strings.to_hash_bucket_strong: one per repetition, and
# one for the check hash, so that the hash functions are independent.
_CHECK_HASH_KEY = 1_000_003
# Cells per repetition for each expected distinct string: with 3 or more
# repetitions, peeling succeeds with high probability at a total load well
# below 1 / 1.22 strings per cell.
_CELLS_PER_STRING = 1.0


class CharacterEncoding(enum.Enum):
  """Character encodings of IBLT strings (TFF's `CharacterEncoding`).

  UTF8: strings are valid UTF-8; a string cut at `string_max_bytes` is cut at
    a character boundary. UNKNOWN: strings are bytes, cut at any byte.
  """
  UTF8 = 'utf-8'
  UNKNOWN = 'unknown'


def num_chunks(string_max_bytes: int) -> int:
  """The number of field elements that encode one string."""
  return 1 + math.ceil(string_max_bytes / _BYTES_PER_CHUNK)


def table_size(capacity: int, repetitions: int) -> int:
  """Cells per repetition for `capacity` expected distinct strings."""
  del repetitions  # Every repetition has a full table (see _CELLS_PER_STRING).
  return max(2, math.ceil(capacity * _CELLS_PER_STRING) + 1)


def _fixed_bytes(strings: tf.Tensor, length: int) -> tf.Tensor:
  """uint8 [n, length]: each string's first bytes, zero-padded.

  (Not `decode_raw(fixed_length=...)`: its op, DecodePaddedRaw, is not on
  remote workers' allowlist.)
  """
  padded = tf.strings.substr(
      tf.strings.join([strings, tf.constant(b'\0' * length)]), 0, length)
  return tf.reshape(tf.io.decode_raw(padded, tf.uint8), [-1, length])


def truncate(strings: tf.Tensor, string_max_bytes: int,
             encoding: CharacterEncoding) -> tf.Tensor:
  """Cuts strings to at most `string_max_bytes` bytes.

  For UTF-8 the cut moves back to the start of the character it would
  split: to the last position at or before `string_max_bytes` whose byte is
  not a continuation byte (`10xxxxxx`). Plain byte ops, no ragged tensors,
  so that remote workers' op allowlist accepts the graph.
  """
  if encoding == CharacterEncoding.UNKNOWN:
    return tf.strings.substr(strings, 0, string_max_bytes)
  # Byte p of each string, for p in [0, string_max_bytes]; zero past the end.
  raw = tf.cast(_fixed_bytes(strings, string_max_bytes + 1), tf.int32)
  starts_char = tf.not_equal(tf.bitwise.bitwise_and(raw, 0xC0), 0x80)
  last_start = string_max_bytes - tf.argmax(
      tf.reverse(tf.cast(starts_char, tf.int32), [1]), axis=1,
      output_type=tf.int32)
  cut = tf.minimum(tf.strings.length(strings), last_start)
  return tf.strings.substr(strings, tf.zeros_like(cut), cut)


def _chunks(strings: tf.Tensor, string_max_bytes: int) -> tf.Tensor:
  """int64 [n, num_chunks]: each string's length, then its bytes by three."""
  padded_bytes = _BYTES_PER_CHUNK * (num_chunks(string_max_bytes) - 1)
  raw = _fixed_bytes(strings, padded_bytes)
  raw = tf.reshape(tf.cast(raw, tf.int64), [-1, padded_bytes // 3, 3])
  body = raw[:, :, 0] * 65536 + raw[:, :, 1] * 256 + raw[:, :, 2]
  length = tf.cast(tf.strings.length(strings), tf.int64)[:, tf.newaxis]
  return tf.concat([length, body], axis=1)


def _strings_from_chunks(chunks: tf.Tensor) -> tf.Tensor:
  """The inverse of `_chunks` (on chunks that came from strings)."""
  body = chunks[:, 1:]
  raw = tf.stack([body // 65536, (body // 256) % 256, body % 256], axis=-1)
  raw = tf.reshape(raw, [tf.shape(chunks)[0], -1])
  byte_strings = tf.constant([bytes([b]) for b in range(256)])
  joined = tf.strings.reduce_join(tf.gather(byte_strings, raw), axis=1)
  lengths = tf.cast(chunks[:, 0], tf.int32)
  return tf.strings.substr(joined, tf.zeros_like(lengths), lengths)


def _cells(strings: tf.Tensor, repetition: int, size: int, seed: int):
  return tf.strings.to_hash_bucket_strong(
      strings, size, [seed, repetition])


def _checks(strings: tf.Tensor, seed: int) -> tf.Tensor:
  return tf.strings.to_hash_bucket_strong(
      strings, FIELD_SIZE, [seed, _CHECK_HASH_KEY])


def encode(strings: tf.Tensor, values: tf.Tensor, *, capacity: int,
           string_max_bytes: int, repetitions: int, seed: int):
  """Returns `(sketch, value_table)` of the records `(strings[i], values[i])`.

  Args:
    strings: string [n], already truncated to `string_max_bytes`.
    values: int64 [n, d].
    capacity, string_max_bytes, repetitions, seed: the sketch's parameters.

  Returns:
    sketch int64 [repetitions, table_size, num_chunks + 2] in the field, and
    value_table int64 [repetitions, table_size, d].
  """
  size = table_size(capacity, repetitions)
  rows = tf.concat([
      _chunks(strings, string_max_bytes),
      tf.ones_like(strings, tf.int64)[:, tf.newaxis],
      _checks(strings, seed)[:, tf.newaxis],
  ], axis=1)
  sketches, value_tables = [], []
  for r in range(repetitions):
    cells = _cells(strings, r, size, seed)[:, tf.newaxis]
    sketches.append(tf.math.floormod(
        tf.scatter_nd(cells, rows, [size, rows.shape[1]]), FIELD_SIZE))
    value_tables.append(
        tf.scatter_nd(cells, values,
                      tf.stack([size, tf.shape(values, tf.int64)[1]])))
  return tf.stack(sketches), tf.stack(value_tables)


def _field_inverse(x: tf.Tensor) -> tf.Tensor:
  """x ** (FIELD_SIZE - 2) mod FIELD_SIZE, element-wise (x != 0)."""
  result = tf.ones_like(x)
  base = tf.math.floormod(x, FIELD_SIZE)
  exponent = FIELD_SIZE - 2
  while exponent:  # 31 Python-unrolled steps: the exponent is a constant.
    if exponent & 1:
      result = tf.math.floormod(result * base, FIELD_SIZE)
    base = tf.math.floormod(base * base, FIELD_SIZE)
    exponent >>= 1
  return result


def _peel(r, sketch, value_table, *, string_max_bytes, repetitions, seed):
  """Removes the strings of repetition r's pure cells from every table.

  Returns the new sketch and value table, and the strings removed with their
  counts and values.
  """
  n_chunks = num_chunks(string_max_bytes)
  size = sketch.shape[1]
  counts = sketch[r, :, n_chunks]
  inverse = _field_inverse(counts)[:, tf.newaxis]
  chunks = tf.math.floormod(sketch[r, :, :n_chunks] * inverse, FIELD_SIZE)
  # tf.equal, not ==: tffx traces in a graph, where == compares identities.
  plausible = (tf.not_equal(counts, 0)
               & (chunks[:, 0] <= string_max_bytes)
               & tf.reduce_all(chunks[:, 1:] < 2**24, axis=1))
  # Implausible cells are decoded as the empty string, then rejected.
  chunks = tf.where(plausible[:, tf.newaxis], chunks, tf.zeros_like(chunks))
  strings = _strings_from_chunks(chunks)
  check = tf.math.floormod(_checks(strings, seed) * counts, FIELD_SIZE)
  pure = (plausible
          & tf.equal(check, sketch[r, :, n_chunks + 1])
          & tf.equal(_cells(strings, r, size, seed),
                     tf.range(size, dtype=tf.int64)))
  strings = tf.boolean_mask(strings, pure)
  counts = tf.boolean_mask(counts, pure)
  values = tf.boolean_mask(value_table[r], pure)
  rows = tf.concat([
      tf.boolean_mask(chunks, pure),
      counts[:, tf.newaxis],
      tf.math.floormod(_checks(strings, seed) * counts,
                       FIELD_SIZE)[:, tf.newaxis],
  ], axis=1)
  for s in range(repetitions):
    cells = _cells(strings, s, size, seed)[:, tf.newaxis]
    removed = tf.scatter_nd(cells, rows, [size, n_chunks + 2])
    removed_values = tf.scatter_nd(cells, values,
                                   tf.shape(value_table[s], tf.int64))
    sketch = tf.tensor_scatter_nd_update(
        sketch, [[s]],
        tf.math.floormod(sketch[s] - removed, FIELD_SIZE)[tf.newaxis])
    value_table = tf.tensor_scatter_nd_update(
        value_table, [[s]], (value_table[s] - removed_values)[tf.newaxis])
  return sketch, value_table, strings, counts, values


def decode(sketch: tf.Tensor, value_table: tf.Tensor, *, string_max_bytes: int,
           repetitions: int, seed: int):
  """Peels a summed sketch into its strings.

  Args:
    sketch: int64 [repetitions, table_size, num_chunks + 2], summed sketches.
    value_table: int64 [repetitions, table_size, d], summed value tables.
    string_max_bytes, repetitions, seed: as the sketches were encoded.

  Returns:
    `(strings, counts, values, num_not_decoded)`: string [k], int64 [k],
    int64 [k, d], and the int64 number of records not decoded.
  """
  n_chunks = num_chunks(string_max_bytes)
  size = sketch.shape[1]
  sketch = tf.math.floormod(sketch, FIELD_SIZE)

  def body(progress, sketch, value_table, strings, counts, values):
    del progress
    found = tf.constant(0)
    for r in range(repetitions):
      sketch, value_table, new_strings, new_counts, new_values = (
          _peel(r, sketch, value_table, string_max_bytes=string_max_bytes,
                repetitions=repetitions, seed=seed))
      found += tf.size(new_strings)
      strings = tf.concat([strings, new_strings], 0)
      counts = tf.concat([counts, new_counts], 0)
      values = tf.concat([values, new_values], 0)
    return found > 0, sketch, value_table, strings, counts, values

  d = tf.shape(value_table)[2]
  initial = (tf.constant(True), sketch, value_table,
             tf.zeros([0], tf.string), tf.zeros([0], tf.int64),
             tf.zeros([0, d], value_table.dtype))
  _, sketch, _, strings, counts, values = tf.while_loop(
      lambda progress, *_: progress, body, initial,
      shape_invariants=(tf.TensorShape([]), sketch.shape, value_table.shape,
                        tf.TensorShape([None]), tf.TensorShape([None]),
                        tf.TensorShape([None, value_table.shape[2]])))
  num_not_decoded = tf.reduce_sum(sketch[0, :, n_chunks])
  return strings, counts, values, num_not_decoded

