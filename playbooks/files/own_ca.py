# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A certificate authority of your own, kept in two files, for playbooks/external_ca.yml.

    python own_ca.py init --dir DIR [--subject "CN=My CA"] [--days 3650]
    python own_ca.py sign --dir DIR --out FILE [--days 365] < request.csr

``init`` makes DIR/ca.key (0600) and DIR/ca.crt once; ``sign`` reads a PEM certificate signing
request on standard input and writes the certificate it issues, followed by the CA certificate
(the chain), as PEM to FILE. The issued certificate takes the subject and subject alternative names
the request asks for; a real CA decides that by its own rules. Needs only the ``cryptography``
library, which ansible-core depends on, so it runs with ``ansible_playbook_python``.
"""

import argparse
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID


def _paths(directory):
    return os.path.join(directory, 'ca.key'), os.path.join(directory, 'ca.crt')


def _write(path, data, mode):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, 'wb') as handle:
        handle.write(data)


def init(directory, subject, days):
    key_path, certificate_path = _paths(directory)
    if os.path.exists(certificate_path):
        print('the CA in %s exists' % directory)
        return
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name.from_rfc4514_string(subject)
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA384()))
    _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    _write(certificate_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    print('created the CA %s in %s' % (subject, directory))


def sign(directory, out, days):
    key_path, certificate_path = _paths(directory)
    with open(key_path, 'rb') as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    with open(certificate_path, 'rb') as handle:
        ca_certificate = x509.load_pem_x509_certificate(handle.read())
    request = x509.load_pem_x509_csr(sys.stdin.buffer.read())
    if not request.is_signature_valid:
        sys.exit('the certificate signing request is not signed by its own key')
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(request.subject).issuer_name(ca_certificate.subject).public_key(request.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    try:
        names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = None
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    certificate = builder.sign(ca_key, hashes.SHA384())
    _write(out, certificate.public_bytes(serialization.Encoding.PEM) + ca_certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    print('signed %s, serial %x, valid until %s' % (request.subject.rfc4514_string(), certificate.serial_number,
                                                    (now + datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')))


def main():
    parser = argparse.ArgumentParser(description='A certificate authority of your own, kept in two files.')
    commands = parser.add_subparsers(dest='command', required=True)
    made = commands.add_parser('init', help='make the CA key and certificate once')
    made.add_argument('--dir', required=True)
    made.add_argument('--subject', default='CN=keyvault.azure example CA')
    made.add_argument('--days', type=int, default=3650)
    signing = commands.add_parser('sign', help='sign the PEM request on standard input')
    signing.add_argument('--dir', required=True)
    signing.add_argument('--out', required=True)
    signing.add_argument('--days', type=int, default=365)
    arguments = parser.parse_args()
    if arguments.command == 'init':
        init(arguments.dir, arguments.subject, arguments.days)
    else:
        sign(arguments.dir, arguments.out, arguments.days)


if __name__ == '__main__':
    main()
