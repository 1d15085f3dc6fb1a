# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad names, URLs, versions, dates, policies, certificate material and auth options fail with a message naming the
option, before any request.

test_module_secret.py covers the value cases (empty, too large, value and value_file) and test_module_certificate.py
input that needs a look at the vault (a deleted certificate, a missing subject), checking that nothing is written;
here the vault's counters, IMDS included, must not move at all.
"""

import datetime
import types

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from certificate_material import issue
from playbook_helpers import case_arguments, counters_task


def _ec_issued(common_name, **validity):
    # EC keys: quick to make at collection time.
    return issue(common_name, key=ec.generate_private_key(ec.SECP256R1()), **validity)


BUNDLE = _ec_issued('bad-input.example.test')
EXPIRED = _ec_issued('expired.example.test', valid_from=datetime.datetime(2023, 1, 31, tzinfo=datetime.timezone.utc),
                     valid_until=datetime.datetime(2024, 1, 31, 12, 0, tzinfo=datetime.timezone.utc))
OTHER_KEY = _ec_issued('other.example.test')

MODULE_CASES = {
    'long-name': ('keyvault.azure.secret', dict(name='n' * 128, value='some-value'),
                  "invalid secret name '%s': use 1-127 letters, digits and hyphens" % ('n' * 128)),
    'name-characters': ('keyvault.azure.secret_info', dict(name='db.password'),
                        "invalid secret name 'db.password': use 1-127 letters, digits and hyphens"),
    'version': ('keyvault.azure.secret_info', dict(name='db', version='latest'),
                "invalid secret version 'latest': a version is 32 hexadecimal digits"),
    'not-before': ('keyvault.azure.secret', dict(name='db', value='some-value', not_before='2030-13-01'),
                   "not_before: '2030-13-01' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"),
    'url-path': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net/secrets/db'),
                 "vault URL must name only the vault (https://host[:port]), got 'https://myvault.vault.azure.net/secrets/db'"),
    'url-cloud': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net', cloud='AzureChinaCloud'),
                  "vault_url 'https://myvault.vault.azure.net' is not a vault of cloud AzureChinaCloud: its host must end with .vault.azure.cn"),
    'vault-name': ('keyvault.azure.secret_info', dict(name='db', vault_name='my--vault'),
                   "vault_name 'my--vault' is not a valid key vault name: 3-24 letters, digits and hyphens, starting with a letter, "
                   "ending with a letter or digit, without consecutive hyphens"),
    'url-and-name': ('keyvault.azure.secret_info', dict(name='db', vault_name='myvault'),
                     'parameters are mutually exclusive: vault_url|vault_name (also check the variables ansible_keyvault_vault_url, '
                     'ansible_keyvault_vault_name and the environment variables ANSIBLE_KEYVAULT_URL, ANSIBLE_KEYVAULT_NAME)'),
    'secret-with-identity': ('keyvault.azure.secret_info', dict(name='db', client_secret='never-sent-secret'),
                             'auth_source=managed_identity does not use client_secret; remove it or choose another auth_source '
                             '(check also ansible_keyvault_client_secret, ANSIBLE_KEYVAULT_CLIENT_SECRET)'),
    'incomplete-principal': ('keyvault.azure.secret_info', dict(name='db', auth_source='service_principal'),
                             'auth_source=service_principal needs tenant_id, client_secret or client_certificate_path'),
    'two-credentials': ('keyvault.azure.secret_info', dict(name='db', auth_source='service_principal', tenant_id='t',
                                                           client_secret='never-sent-secret', client_certificate_path='/tmp/c.pem'),
                        'parameters are mutually exclusive: client_secret|client_certificate_path (also check the variables '
                        'ansible_keyvault_client_secret, ansible_keyvault_client_certificate_path and the environment variables '
                        'ANSIBLE_KEYVAULT_CLIENT_SECRET, ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PATH)'),
    'timeout': ('keyvault.azure.secret_info', dict(name='db', timeout=0), 'timeout must be at least 1, got 0'),
    # lookup('file') of a binary file hands the module text with the undecodable bytes escaped.
    'binary-value': ('keyvault.azure.secret', dict(name='db', value="{{ lookup('file', binary_file) }}"),
                     'value holds bytes that are not UTF-8 text; Key Vault stores a secret as text: encode binary content first, '
                     "for example with the b64encode filter and content_type 'application/octet-stream;base64'"),
    'binary-value-file': ('keyvault.azure.secret', dict(name='db', value_file='{{ binary_file }}'),
                          'value_file {{ binary_file }} is not UTF-8 text'),
    'five-digit-year': ('keyvault.azure.secret', dict(name='db', value='some-value', expires='99999-01-01'),
                        "expires: '99999-01-01' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"),
    'after-9999': ('keyvault.azure.secret', dict(name='db', value='some-value', expires='9999-12-31T23:59:59-14:00'),
                   "expires: '9999-12-31T23:59:59-14:00' is later than 9999-12-31T23:59:59Z, the latest date Key Vault takes"),
    'huge-seconds': ('keyvault.azure.secret', dict(name='db', value='some-value', not_before='99999999999999999'),
                     "not_before: '99999999999999999' is later than 9999-12-31T23:59:59Z, the latest date Key Vault takes"),
    'url-port-word': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net:https'),
                      "vault URL port must be a number from 1 to 65535, got 'https://myvault.vault.azure.net:https'"),
    'url-port-range': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net:65536'),
                       "vault URL port must be a number from 1 to 65535, got 'https://myvault.vault.azure.net:65536'"),
    'url-password': ('keyvault.azure.secret_info', dict(name='db', vault_url='http://user:never-sent-secret@myvault.vault.azure.net'),
                     "vault URL must be an https:// URL such as https://myvault.vault.azure.net, got 'http://********@myvault.vault.azure.net'"),
}


def _certificate_case(message, **arguments):
    return ('keyvault.azure.certificate', dict(dict(name='web-tls', subject='CN=www.example.com'), **arguments), message)


def _import_case(message, **arguments):
    return ('keyvault.azure.certificate', dict(arguments, name='web-tls'), message)


MODULE_CASES.update({
    'certificate-name': _certificate_case("invalid certificate name 'web_tls': use 1-127 letters, digits and hyphens", name='web_tls'),
    'rsa-key-size': _certificate_case('key_size 384 is not an RSA key size; use one of 2048, 3072, 4096', key_type='RSA', key_size=384),
    'validity': _certificate_case('validity_in_months must be between 1 and 1200, got 1201', validity_in_months=1201),
    'two-lifetime-actions': _certificate_case('lifetime_actions holds 2 actions; Key Vault takes one action per certificate', lifetime_actions=[
        {'action': 'AutoRenew', 'lifetime_percentage': 80}, {'action': 'EmailContacts', 'days_before_expiry': 30}]),
    'days-before-expiry': _certificate_case(
        'lifetime_actions[0].days_before_expiry must be at most 162 for validity_in_months=6 (27 days a month), got 200',
        validity_in_months=6, lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 200}]),
    'subject': _certificate_case("subject 'www.example.com' is not a distinguished name: give attribute=value pairs separated by commas, "
                                 "such as CN=www.example.com, O=Contoso", subject='www.example.com'),
    'raw-policy': _certificate_case("policy.key_props.key_size must be a whole number, got '2048'", policy={'key_props': {'key_size': '2048'}}),
    'wrong-password': _import_case('certificate is neither a PEM bundle nor a PKCS#12 file that opens with the given password',
                                   certificate=BUNDLE.pkcs12_base64('the-right-password'), password='never-sent-secret'),
    'pem-without-key': _import_case('certificate holds no private key; Key Vault imports a certificate together with its private key',
                                    certificate=BUNDLE.certificate_pem()),
    'key-mismatch': _import_case('certificate holds no certificate for its private key', certificate=BUNDLE.certificate_pem() + OTHER_KEY.key_pem()),
    'expired': _import_case('certificate holds a certificate that expired on 2024-01-31T12:00:00Z; Key Vault does not import expired certificates',
                            certificate=EXPIRED.pem_bundle()),
    'certificate-file': _import_case('certificate_file /nonexistent/web-tls.pem cannot be read: No such file or directory',
                                     certificate_file='/nonexistent/web-tls.pem'),
    'signed-unreadable': _import_case('signed_certificate is not a certificate; give the certificate (and chain) as PEM, DER or base64-encoded DER',
                                      signed_certificate='MIIB-not-a-certificate'),
    'signed-with-key': _import_case('signed_certificate holds a private key; the key of a pending request stays in the vault, give only the '
                                    'signed certificate and its chain', signed_certificate=BUNDLE.certificate_pem() + BUNDLE.key_pem()),
    'signed-both': _import_case('parameters are mutually exclusive: signed_certificate|signed_certificate_file',
                                signed_certificate=BUNDLE.certificate_pem(), signed_certificate_file='/tmp/signed.pem'),
    'signed-and-import': _import_case('parameters are mutually exclusive: signed_certificate|certificate',
                                      signed_certificate=BUNDLE.certificate_pem(), certificate=BUNDLE.pem_bundle()),
    'signed-file': _import_case('signed_certificate_file /nonexistent/web-tls.crt cannot be read: No such file or directory',
                                signed_certificate_file='/nonexistent/web-tls.crt'),
    'certificate-version': ('keyvault.azure.certificate_info', dict(name='web-tls', version='latest'),
                            "invalid certificate version 'latest': a version is 32 hexadecimal digits"),
    'key-without-name': ('keyvault.azure.certificate_info', dict(include_private_key=True),
                         'include_private_key only works when reading one certificate with name'),
})

ITEM_OPTIONS = 'content_type, enabled, expires, name, not_before, overwrite, purge, recover, state, tags, value, value_file'
MODULE_CASES.update({
    'list-duplicate': ('keyvault.azure.secrets', dict(secrets=[
        {'name': 'db-password', 'value': 'never-sent-secret'}, {'name': 'api-key', 'value': 'v'}, {'name': 'DB-Password', 'value': 'never-sent-secret'}]),
        "secrets[2] (secret 'DB-Password') names the same secret as secrets[0] (secret 'db-password') (Key Vault names ignore case)"),
    'list-value-and-file': ('keyvault.azure.secrets', dict(secrets=[
        {'name': 'api-key', 'value': 'v'}, {'name': 'db', 'value': 'never-sent-secret', 'value_file': '/etc/hostname'}]),
        "secrets[1] (secret 'db'): value and value_file are mutually exclusive"),
    'list-unknown-key': ('keyvault.azure.secrets', dict(secrets=[{'name': 'db', 'valeu': 'never-sent-secret'}]),
                         "secrets[0] (secret 'db'): unknown option valeu; an item takes " + ITEM_OPTIONS),
    'list-no-name': ('keyvault.azure.secrets', dict(secrets=[{'name': 'db', 'value': 'v'}, {'value': 'never-sent-secret'}]), 'secrets[1] has no name'),
    'list-bad-name': ('keyvault.azure.secrets', dict(secrets=[{'name': 'db_password', 'value': 'v'}]),
                      "secrets[0] (secret 'db_password'): invalid secret name 'db_password': use 1-127 letters, digits and hyphens"),
    'list-dates': ('keyvault.azure.secrets', dict(expires='2031-01-01', secrets=[
        {'name': 'db', 'value': 'v', 'not_before': 'soon'}, {'name': 'api', 'value': 'v'}, {'name': 'web', 'expires': '2031-02-30'}]),
        "secrets[0] (secret 'db'): not_before: 'soon' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z; "
        "secrets[2] (secret 'web'): expires: '2031-02-30' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"),
    'list-exclusive-empty': ('keyvault.azure.secrets', dict(secrets=[{'name': 'db', 'value': 'v'}], exclusive_tags={}),
                             'exclusive_tags is empty; name at least one tag, so that only the secrets carrying it can be removed'),
    'list-empty-exclusive': ('keyvault.azure.secrets', dict(secrets=[], exclusive_tags={'managed-by': 'ansible'}),
                             'secrets is empty, so exclusive_tags would delete every secret carrying its tags; list the secrets to keep, '
                             'or delete them with items of state absent'),
    'names-duplicate': ('keyvault.azure.secret_info', dict(names=['db', 'api', 'DB']), "names lists secret 'DB' more than once"),
    'names-and-tags': ('keyvault.azure.secret_info', dict(names=['db'], tags={'app': 'shop'}), 'names cannot be combined with tags'),
})

LOOKUP_CASES = {
    'lookup-name': ('secret', "'db password'", "invalid secret name 'db password': use 1-127 letters, digits and hyphens"),
    'lookup-version': ('secret', "'db/v2'", "invalid secret version 'v2': a version is 32 hexadecimal digits"),
    'lookup-url': ('secret', "'db', vault_url='http://myvault.vault.azure.net'",
                   "vault URL must be an https:// URL such as https://myvault.vault.azure.net, got 'http://myvault.vault.azure.net'"),
    'lookup-url-port': ('secret', "'db', vault_url='https://myvault.vault.azure.net:0'",
                        "vault URL port must be a number from 1 to 65535, got 'https://myvault.vault.azure.net:0'"),
    'lookup-value-cache': ('secret', "'db', value_cache='maybe'", "keyvault.azure.secret: value_cache must be true or false, got 'maybe'"),
    'lookup-certificate-name': ('certificate', "'web_tls', part='private_key'",
                                "invalid certificate name 'web_tls': use 1-127 letters, digits and hyphens"),
    'lookup-certificate-version': ('certificate', "'web-tls', version='1'", "invalid certificate version '1': a version is 32 hexadecimal digits"),
    'lookup-certificate-id': ('certificate', "'https://myvault.vault.azure.net/secrets/web-tls'",
                              "'https://myvault.vault.azure.net/secrets/web-tls' is not a certificate id such as "
                              "https://myvault.vault.azure.net/certificates/NAME[/VERSION]"),
}


@pytest.fixture(scope='module')
def bad_input_run(playbook, localvault, tmp_path_factory):
    hosts = dict((host, {'case': arguments, 'module': module}) for host, (module, arguments, _message) in MODULE_CASES.items())
    # Without the environment's vault URL, vault_name is the only vault given.
    hosts['vault-name']['case_environment'] = {'ANSIBLE_KEYVAULT_URL': ''}
    binary_file = tmp_path_factory.mktemp('bad-input') / 'binary.bin'
    binary_file.write_bytes(b'\xff\xfe not UTF-8 \x80')
    for host in hosts.values():
        host['binary_file'] = str(binary_file)
    modules = sorted(set(module for module, _arguments, _message in MODULE_CASES.values()))
    tasks = [counters_task('before', localvault)]
    for module in modules:
        tasks.append({'name': module, module: case_arguments(dict((host, case[1]) for host, case in MODULE_CASES.items() if case[0] == module)),
                      'when': 'module == %r' % module, 'ignore_errors': True, 'environment': '{{ case_environment | default({}) }}'})
    for case, (lookup, arguments, _message) in LOOKUP_CASES.items():
        tasks.append({'name': case, 'run_once': True, 'ignore_errors': True,
                      'ansible.builtin.set_fact': {'read': "{{ lookup('keyvault.azure.%s', %s) }}" % (lookup, arguments)}})
    tasks.append(counters_task('after', localvault))
    run = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}], cases=hosts)
    messages = dict((host, run.result(module, host).get('msg')) for host, (module, _arguments, _message) in MODULE_CASES.items())
    messages.update((case, run.result(case).get('msg')) for case in LOOKUP_CASES)
    return types.SimpleNamespace(run=run, messages=messages, binary_file=str(binary_file))


@pytest.mark.parametrize('case', sorted(MODULE_CASES))
def test_module_input_is_refused_with_a_message_naming_the_option(bad_input_run, case):
    assert bad_input_run.messages[case] == MODULE_CASES[case][2].replace('{{ binary_file }}', bad_input_run.binary_file)


@pytest.mark.parametrize('case', sorted(LOOKUP_CASES))
def test_lookup_input_is_refused_with_a_message_naming_the_problem(bad_input_run, case):
    assert LOOKUP_CASES[case][2] in bad_input_run.messages[case]


def test_nothing_was_sent(bad_input_run):
    run = bad_input_run.run
    before, after = run.counters('before'), run.counters('after')
    assert (after['total'], after['imds']['total']) == (before['total'], before['imds']['total'])
    assert 'never-sent-secret' not in run.output


def test_a_password_in_the_vault_url_is_shown_nowhere(playbook):
    # From a vars file: Ansible quotes the task's source in a failure, so a password written there would show.
    run = playbook([
        {'name': 'module', 'keyvault.azure.secret_info': {'name': 'db', 'vault_url': '{{ url }}'}, 'ignore_errors': True},
        {'name': 'lookup', 'ansible.builtin.set_fact': {'read': "{{ lookup('keyvault.azure.secret', 'db', vault_url=url) }}"},
         'ignore_errors': True},
    ], extra_vars={'url': 'https://reader:never-sent-secret@myvault.vault.azure.net'}, verbosity=4)
    assert run['module']['msg'] == 'vault URL must not contain user information'
    assert 'vault URL must not contain user information' in run['lookup']['msg']
    assert 'never-sent-secret' not in run.output
