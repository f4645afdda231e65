from absl.testing import absltest
from absl.testing import parameterized

from tffx.remote import auth
from tffx.remote import wire


class TokenTest(parameterized.TestCase):

  def test_token_metadata_carries_bearer_token(self):
    metadata = auth.token_metadata('s3cret')

    self.assertEqual(metadata, ((wire.AUTH_METADATA_KEY, 'Bearer s3cret'),))

  def test_token_metadata_is_empty_without_token(self):
    self.assertEqual(auth.token_metadata(None), ())

  @parameterized.named_parameters(
      ('right_token', (('authorization', 'Bearer s3cret'),), True),
      ('wrong_token', (('authorization', 'Bearer guess'),), False),
      ('no_bearer', (('authorization', 's3cret'),), False),
      ('missing', (), False),
      ('other_key', (('x-token', 'Bearer s3cret'),), False),
      ('twice', (('authorization', 'Bearer s3cret'),
                 ('authorization', 'Bearer s3cret')), False),
  )
  def test_token_checker_accepts_only_the_token(self, metadata, accepted):
    checker = auth.TokenChecker('s3cret')

    self.assertEqual(checker.check(metadata), accepted)
    self.assertTrue(checker.enabled)

  def test_token_checker_without_token_accepts_everything(self):
    checker = auth.TokenChecker(None)

    self.assertTrue(checker.check(()))
    self.assertFalse(checker.enabled)

  def test_read_token_file_strips_whitespace(self):
    path = self.create_tempfile(content='  s3cret \n').full_path

    self.assertEqual(auth.read_token_file(path), 's3cret')

  @parameterized.named_parameters(('empty', '\n'), ('two_lines', 'a\nb\n'))
  def test_read_token_file_refuses_bad_contents(self, content):
    path = self.create_tempfile(content=content).full_path

    with self.assertRaisesRegex(ValueError, 'one non-empty line'):
      auth.read_token_file(path)


class TlsFilesTest(absltest.TestCase):

  def test_tls_files_refuses_cert_without_key(self):
    cert = self.create_tempfile().full_path

    with self.assertRaisesRegex(ValueError, 'certificate and its key'):
      auth.TlsFiles(cert=cert)

  def test_tls_files_refuses_missing_file(self):
    missing = self.create_tempdir().full_path + '/missing.pem'

    with self.assertRaisesRegex(ValueError, 'ca file .*missing.pem'):
      auth.TlsFiles(ca=missing)

  def test_server_credentials_need_certificate(self):
    ca = self.create_tempfile().full_path

    with self.assertRaisesRegex(ValueError, '--tls_cert'):
      auth.server_credentials(auth.TlsFiles(ca=ca))


if __name__ == '__main__':
  absltest.main()
