from absl.testing import absltest
from absl.testing import parameterized

from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import wire


def _chunk(data=b'', total_size=0):
  return remote_pb2.Chunk(data=data, total_size=total_size).SerializeToString()


class WireTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('empty', 0, 4),
      ('smaller_than_a_chunk', 3, 4),
      ('exactly_one_chunk', 4, 4),
      ('several_chunks', 10, 4),
      ('exact_multiple', 12, 4),
  )
  def test_to_chunks_then_assemble_gives_back_the_bytes(self, size, chunk):
    data = bytes(range(size))

    chunks = list(wire.to_chunks(data, chunk))

    self.assertLen(chunks, max(1, -(-size // chunk)))
    self.assertEqual(wire.assemble(chunks, 100, 'the request'), data)

  def test_to_chunks_announces_total_size_on_first_chunk_only(self):
    chunks = [remote_pb2.Chunk.FromString(c)
              for c in wire.to_chunks(b'x' * 10, 4)]

    self.assertEqual([c.total_size for c in chunks], [10, 0, 0])
    self.assertEqual([len(c.data) for c in chunks], [4, 4, 2])

  def test_assemble_refuses_announced_size_over_limit_before_reading_on(self):
    read = []

    def chunks():
      read.append(1)
      yield _chunk(b'x', total_size=1000)
      read.append(2)
      yield _chunk(b'y')

    with self.assertRaisesRegex(errors.MessageTooLargeError,
                                r'The request has 1000 bytes.*limit is 100'):
      wire.assemble(chunks(), 100, 'the request')
    self.assertEqual(read, [1])

  @parameterized.named_parameters(
      ('no_chunks', [], 'has no chunks'),
      ('garbage', [b'\xff\xff\xff'], 'Cannot parse chunk 0'),
      ('truncated', [_chunk(b'ab', total_size=5)], 'after 2 of the 5 bytes'),
      ('too_many_bytes', [_chunk(b'ab', total_size=2), _chunk(b'c')],
       'more than the 2 bytes'),
      ('second_total', [_chunk(b'a', total_size=2), _chunk(b'b', 2)],
       'Chunk 1 .* announces a total size'),
      ('negative_total', [_chunk(b'', total_size=-1)], 'negative size'),
  )
  def test_assemble_refuses_malformed_streams(self, chunks, message):
    with self.assertRaisesRegex(errors.MalformedMessageError, message):
      wire.assemble(chunks, 100, 'the request')

  def test_assemble_refuses_chunks_adding_up_over_limit(self):
    chunks = [_chunk(b'ab', total_size=2), _chunk(b'c' * 200)]

    with self.assertRaises(errors.MessageTooLargeError):
      wire.assemble(chunks, 100, 'the request')

  @parameterized.named_parameters(
      ('tiny_limit', 10, 1),
      ('one_mb', wire.MB, wire.MB - 1024),
      ('capped', 64 * wire.MB, 4 * wire.MB),
  )
  def test_chunk_size_fits_in_a_message(self, max_message_bytes, expected):
    self.assertEqual(wire.chunk_size(max_message_bytes), expected)

  def test_parse_refuses_garbage_naming_message(self):
    with self.assertRaisesRegex(errors.MalformedMessageError,
                                r'the request.*tffx\.remote\.WorkerRequest'):
      wire.parse(remote_pb2.WorkerRequest, b'\xff\xff', 'the request')

  def test_method_path_names_service(self):
    self.assertEqual(wire.method_path(wire.EXECUTE_METHOD),
                     '/tffx.remote.Worker/Execute')


if __name__ == '__main__':
  absltest.main()
