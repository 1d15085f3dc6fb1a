# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyvault.azure.certificate through ansible-playbook against the local vault.

Every state-changing case runs four steps (check mode, apply, check mode, apply) on a host of its
own; the hosts run each step together, with the vault's request counters read between the steps.
The tests then read what the vault holds with the SDK.
"""

import base64
import hashlib
import types

import pytest
from azure.keyvault.certificates import CertificatePolicy
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certificate_material import days_from_now, der_of, issue, make_ca, sign_request
from playbook_helpers import assert_four_steps, case_arguments, counters_task, four_step_play, requests_between, unique_name, writes_between

PEM_PASSWORD = 'pem-key-password-d41c9a'
PFX_PASSWORD = 'pfx-password-6f02be'


def certificate_task(**args):
    return {'keyvault.azure.certificate': args}


def versions_of(certificate_vault, name):
    return sorted(certificate_vault.list_properties_of_certificate_versions(name), key=lambda properties: properties.created_on)


def self_signed(certificate_vault, name, subject, **policy):
    return certificate_vault.begin_create_certificate(name, CertificatePolicy(issuer_name='Self', subject=subject, **policy)).result()


@pytest.fixture(scope='module')
def four_step_cases(playbook, localvault, certificate_vault, tmp_path_factory):
    """One playbook with every state-changing case (``present`` and ``absent``), run once (with --diff) for the tests of
    this module."""
    names = dict((case, unique_name('c-' + case)) for case in (
        'create', 'decipher-only', 'reissue', 'policy', 'import-pem', 'import-pfx', 'renew-days', 'renew-pct', 'recover', 'unknown', 'delete', 'purge',
        'purge-deleted', 'missing'))
    for case in ('delete', 'purge', 'purge-deleted'):
        self_signed(certificate_vault, names[case], 'CN=doomed')
    certificate_vault.begin_delete_certificate(names['purge-deleted']).wait()
    self_signed(certificate_vault, names['reissue'], 'CN=drift', san_dns_names=['old.example.test'])
    certificate_vault.begin_create_certificate(names['policy'], CertificatePolicy(issuer_name='Self', subject='CN=policy'), tags={'a': '1'}).result()
    self_signed(certificate_vault, names['recover'], 'CN=recover')
    certificate_vault.begin_delete_certificate(names['recover']).wait()
    short = issue('short.example.test', valid_until=days_from_now(3))
    certificate_vault.import_certificate(names['renew-days'], short.pkcs12())
    aged = issue('aged.example.test', valid_from=days_from_now(-20), valid_until=days_from_now(10))
    certificate_vault.import_certificate(names['renew-pct'], aged.pkcs12())

    ca = make_ca()
    from_pem = issue('pem.example.test', issuer=ca, dns_names=['pem.example.test'])
    from_pfx = issue('pfx.example.test', issuer=ca)
    material = tmp_path_factory.mktemp('material')
    pem_file = material / 'bundle.pem'
    pem_file.write_text(from_pem.pem_bundle(PEM_PASSWORD))

    cases = {
        'create': dict(name=names['create'], subject='CN=create.example.test', dns_names=['create.example.test', 'www.create.example.test'],
                       ip_addresses=['10.0.0.7'], emails=['ops@example.test'], key_type='EC', curve='P-384',
                       content_type='application/x-pem-file',
                       validity_in_months=6, ekus=['serverAuth'], key_usage=['digitalSignature'],
                       lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 30}], tags={'app': 'shop'}),
        # Key Vault takes encipherOnly/decipherOnly without keyAgreement and issues the certificate.
        'decipher-only': dict(name=names['decipher-only'], subject='CN=decipher.example.test', dns_names=['decipher.example.test'],
                              key_usage=['decipherOnly']),
        'reissue': dict(name=names['reissue'], subject='CN=drift', dns_names=['new.example.test']),
        'policy': dict(name=names['policy'], subject='CN = policy', reuse_key=True, lifetime_actions=[{'action': 'EmailContacts', 'lifetime_percentage': 90}],
                       enabled=False, tags={'a': '1', 'b': '2'}),
        'import-pem': dict(name=names['import-pem'], certificate_file=str(pem_file), password=PEM_PASSWORD, tags={'source': 'pem'}),
        'import-pfx': dict(name=names['import-pfx'], certificate=from_pfx.pkcs12_base64(PFX_PASSWORD), password=PFX_PASSWORD, content_type='PEM'),
        'renew-days': dict(name=names['renew-days'], subject='CN=short.example.test', issuer='Self', renew_before_expiry_days=10),
        'renew-pct': dict(name=names['renew-pct'], issuer='Self', renew_at_percentage=50),
        'recover': dict(name=names['recover'], subject='CN=recover', recover=True),
        # A raw policy (Azure CLI shape) for what the options do not cover.
        'unknown': dict(name=names['unknown'], issuer='Unknown', policy={
            'x509CertificateProperties': {'subject': 'CN=csr.example.test', 'subjectAlternativeNames': {'upns': ['alice@example.test']}},
            'keyProperties': {'keyType': 'RSA', 'keySize': 3072}}),
        'delete': dict(name=names['delete'], state='absent'),
        'purge': dict(name=names['purge'], state='absent', purge=True),
        'purge-deleted': dict(name=names['purge-deleted'], state='absent', purge=True),
    }
    four_steps, hosts = four_step_play('keyvault.azure.certificate', cases, localvault)
    missing = [
        counters_task('missing before', localvault),
        dict(certificate_task(name=names['missing'], state='absent', purge=True), name='missing check', check_mode=True),
        dict(certificate_task(name=names['missing'], state='absent', purge=True), name='missing apply'),
        counters_task('missing after', localvault),
    ]
    run = playbook([four_steps, {'hosts': 'localhost', 'gather_facts': False, 'tasks': missing}], cases=hosts, diff=True)
    assert run.rc == 0, run.output[-5000:]
    return types.SimpleNamespace(run=run, names=names, cases=cases, material={'pem': from_pem, 'pfx': from_pfx, 'ca': ca})


def test_every_case_converges_in_four_steps(four_step_cases):
    run, cases = four_step_cases.run, four_step_cases.cases
    # create, decipher-only, reissue, both renewals and unknown make a version; policy updates the policy and the version in place.
    assert_four_steps(run, cases, {'CreateCertificate': 6, 'ImportCertificate': 2, 'UpdateCertificatePolicy': 1, 'UpdateCertificate': 1,
                                   'RecoverDeletedCertificate': 1, 'DeleteCertificate': 2, 'PurgeDeletedCertificate': 2})


def test_create_with_every_policy_option(four_step_cases, certificate_vault, vault):
    run, names = four_step_cases.run, four_step_cases.names
    certificate = certificate_vault.get_certificate(names['create'])
    policy = certificate.policy
    assert (policy.key_type, policy.key_curve_name, policy.content_type, policy.validity_in_months) == ('EC', 'P-384', 'application/x-pem-file', 6)
    assert (policy.san_dns_names, policy.san_ip_addresses, policy.san_emails) == (
        ['create.example.test', 'www.create.example.test'], ['10.0.0.7'], ['ops@example.test'])
    assert (policy.enhanced_key_usage, policy.key_usage) == (['1.3.6.1.5.5.7.3.1'], ['digitalSignature'])
    assert [(action.action, action.days_before_expiry) for action in policy.lifetime_actions] == [('AutoRenew', 30)]
    assert certificate.properties.tags == {'app': 'shop'}
    assert len(versions_of(certificate_vault, names['create'])) == 1
    assert vault.get_secret(names['create']).properties.content_type == 'application/x-pem-file'
    returned = run.result('cases step 2', 'create')['certificate']
    assert returned['thumbprint'] == bytes(certificate.properties.x509_thumbprint).hex().upper()
    assert returned['sans'] == {'dns_names': ['create.example.test', 'www.create.example.test'], 'ip_addresses': ['10.0.0.7'],
                                'emails': ['ops@example.test']}
    predicted = run.result('cases step 1', 'create')['certificate']
    assert (predicted['version'], predicted['thumbprint'], predicted['policy']['curve'], predicted['policy']['key_size']) == (None, None, 'P-384', 384)
    # Stated with Azure's name here and with the short name for import-pfx; reported as the MIME type either way.
    assert predicted['policy']['content_type'] == returned['policy']['content_type'] == 'application/x-pem-file'
    assert run.result('cases step 2', 'import-pfx')['certificate']['policy']['content_type'] == 'application/x-pem-file'


def test_decipher_only_without_key_agreement_is_issued_and_round_trips(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    certificate = certificate_vault.get_certificate(names['decipher-only'])
    assert certificate.policy.key_usage == ['decipherOnly']
    # critical KeyUsage holding decipherOnly (bit 8) alone, which x509.KeyUsage cannot even represent
    assert bytes.fromhex('0603551d0f0101ff04050303070080') in certificate.cer
    returned = run.result('cases step 2', 'decipher-only')['certificate']
    assert (returned['policy']['key_usage'], returned['sans']) == (['decipherOnly'], {'dns_names': ['decipher.example.test']})
    assert run.result('cases step 4', 'decipher-only')['changed'] is False


def test_subject_or_name_drift_makes_a_new_version_and_shows_in_the_diff(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    history = versions_of(certificate_vault, names['reissue'])
    assert len(history) == 2
    latest = certificate_vault.get_certificate(names['reissue'])
    assert latest.policy.san_dns_names == ['new.example.test']
    assert latest.properties.version == history[-1].version
    diff = run.result('cases step 1', 'reissue')['diff']
    assert (diff['before']['policy']['dns_names'], diff['after']['policy']['dns_names']) == (['old.example.test'], ['new.example.test'])
    assert (diff['before']['version'], diff['after']['version']) == (history[0].version, '(new version)')
    assert run.result('cases step 2', 'reissue')['reasons'] == ['dns_names of the issued certificate differs']


def test_policy_only_drift_updates_the_policy_in_place(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    assert len(versions_of(certificate_vault, names['policy'])) == 1
    policy = certificate_vault.get_certificate_policy(names['policy'])
    assert policy.reuse_key is True
    assert [(action.action, action.lifetime_percentage) for action in policy.lifetime_actions] == [('EmailContacts', 90)]
    diff = run.result('cases step 2', 'policy')['diff']
    assert (diff['before']['policy']['reuse_key'], diff['after']['policy']['reuse_key']) == (False, True)
    assert diff['after']['version'] == diff['before']['version']


def test_enabled_and_tags_update_the_current_version(four_step_cases, certificate_vault):
    names = four_step_cases.names
    [version] = versions_of(certificate_vault, names['policy'])
    assert (version.enabled, version.tags) == (False, {'a': '1', 'b': '2'})


def test_pem_import_is_idempotent_by_thumbprint(four_step_cases, certificate_vault, vault):
    run, names, material = four_step_cases.run, four_step_cases.names, four_step_cases.material
    certificate = certificate_vault.get_certificate(names['import-pem'])
    assert bytes(certificate.properties.x509_thumbprint).hex().upper() == material['pem'].thumbprint
    assert (certificate.properties.tags, certificate.policy.content_type) == ({'source': 'pem'}, 'application/x-pem-file')
    assert len(versions_of(certificate_vault, names['import-pem'])) == 1
    # The chain went along with the certificate.
    assert material['ca'].certificate_pem() in vault.get_secret(names['import-pem']).value
    assert run.result('cases step 1', 'import-pem')['certificate']['thumbprint'] == material['pem'].thumbprint
    for text in (PEM_PASSWORD, PFX_PASSWORD, material['pem'].key_pem().splitlines()[1]):
        assert text not in run.output and text not in repr(run.tasks)


def test_pkcs12_import_converted_to_pem(four_step_cases, certificate_vault, vault):
    names, material = four_step_cases.names, four_step_cases.material
    certificate = certificate_vault.get_certificate(names['import-pfx'])
    assert bytes(certificate.properties.x509_thumbprint).hex().upper() == material['pfx'].thumbprint
    assert certificate.policy.content_type == 'application/x-pem-file'
    secret = vault.get_secret(names['import-pfx']).value
    key = serialization.load_pem_private_key(secret.encode(), None)
    assert key.private_numbers() == material['pfx'].key.private_numbers()


@pytest.mark.parametrize('case', ['renew-days', 'renew-pct'])
def test_renewal_makes_one_new_self_issued_version(four_step_cases, certificate_vault, case):
    run, names = four_step_cases.run, four_step_cases.names
    history = versions_of(certificate_vault, names[case])
    assert len(history) == 2
    latest = certificate_vault.get_certificate(names[case])
    assert latest.policy.issuer_name == 'Self'
    assert latest.properties.expires_on > days_from_now(20)
    reasons = run.result('cases step 2', case)['reasons']
    assert reasons[0].startswith('it expires on ' if case == 'renew-days' else '66% of its lifetime has passed (renew_at_percentage=50)')


def test_recover_then_converge(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    assert certificate_vault.get_certificate(names['recover']).policy.subject == 'CN=recover'
    assert len(versions_of(certificate_vault, names['recover'])) == 1
    assert run.result('cases step 2', 'recover')['diff']['before'] == {'state': 'deleted'}


def test_unknown_issuer_returns_the_request_and_stays_pending(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    created = run.result('cases step 2', 'unknown')
    assert created['certificate']['pending'] is True
    assert created['operation']['started_by_this_task'] is True
    request = x509.load_pem_x509_csr(created['operation']['csr'].encode())
    assert request.subject.rfc4514_string() == 'CN=csr.example.test'
    repeated = run.result('cases step 4', 'unknown')
    assert (repeated['operation']['started_by_this_task'], repeated['operation']['csr']) == (False, created['operation']['csr'])
    assert certificate_vault.get_certificate_operation(names['unknown']).status == 'inProgress'


def test_raw_policy_reaches_what_the_options_do_not_cover(four_step_cases, certificate_vault):
    names = four_step_cases.names
    policy = certificate_vault.get_certificate_policy(names['unknown'])
    assert (policy.subject, policy.san_user_principal_names, policy.key_size) == ('CN=csr.example.test', ['alice@example.test'], 3072)


def test_absent_deletes_softly_with_the_backing_secret(four_step_cases, certificate_vault, vault):
    run, names = four_step_cases.run, four_step_cases.names
    assert certificate_vault.get_deleted_certificate(names['delete']).name == names['delete']
    assert not [s for s in vault.list_properties_of_secrets() if s.name == names['delete']]
    assert run.result('cases step 1', 'delete')['diff'] == {'before': {'state': 'present'}, 'after': {'state': 'deleted'}}


def test_purge_leaves_nothing(four_step_cases, certificate_vault):
    run, names = four_step_cases.run, four_step_cases.names
    for case in ('purge', 'purge-deleted'):
        assert not [c for c in certificate_vault.list_deleted_certificates() if c.name == names[case]]
        assert not [c for c in certificate_vault.list_properties_of_certificates() if c.name == names[case]]
    assert run.result('cases step 2', 'purge-deleted')['diff'] == {'before': {'state': 'deleted'}, 'after': {'state': 'absent'}}


def test_absent_on_a_missing_certificate_is_ok(four_step_cases):
    run = four_step_cases.run
    assert run.changed('missing check', 'missing apply') == [False, False]
    assert writes_between(run.counters('missing before'), run.counters('missing after')) == {}


def test_pending_operations_are_awaited_or_reported_never_duplicated(playbook, localvault, certificate_vault):
    names = dict((case, unique_name('c-' + case)) for case in ('at-ca', 'awaited'))
    # The local vault reaches no certificate authority: a creation through a named issuer stays pending.
    issuer = unique_name('ca-issuer')
    certificate_vault.create_issuer(issuer, 'Test')
    at_ca = dict(name=names['at-ca'], subject='CN=ca.example.test', issuer=issuer)
    awaited = dict(name=names['awaited'], subject='CN=awaited.example.test')
    tasks = [counters_task('start', localvault)]
    for step, check_mode in enumerate((True, False, True, False), start=1):
        tasks.append(dict(certificate_task(wait=False, **at_ca), name='at ca step %d' % step, check_mode=check_mode))
    tasks += [
        dict(certificate_task(wait_timeout=2, **at_ca), name='at ca times out', ignore_errors=True),
        counters_task('after the ca', localvault),
        dict(certificate_task(wait=False, **awaited), name='awaited started'),
        dict(certificate_task(**awaited), name='awaited'),
        counters_task('end', localvault),
    ]
    # A self-signed creation stays pending long enough for the next task to find it, which then waits for it.
    with localvault.changed_settings(certificate_creation_delay_seconds=10):
        run = playbook(tasks)
    assert run.rc == 0, run.output[-5000:]

    assert run.changed('at ca step 1', 'at ca step 2', 'at ca step 3', 'at ca step 4') == [True, True, False, False]
    started = run['at ca step 2']
    assert (started['certificate']['pending'], started['operation']['status'], started['operation']['started_by_this_task']) == (
        True, 'inProgress', True)
    for step in ('at ca step 3', 'at ca step 4'):
        assert (run[step]['operation']['issuer'], run[step]['operation']['started_by_this_task']) == (issuer, False)
    assert run['at ca times out']['failed']
    assert run['at ca times out']['msg'] == (
        "the creation of certificate '%s' in vault %s did not complete within wait_timeout=2 seconds; it carries on in the vault and a "
        "later run waits for it (or reports it with wait: false)" % (names['at-ca'], localvault.vault_url.rstrip('/')))
    assert writes_between(run.counters('start'), run.counters('after the ca')) == {'CreateCertificate': 1}

    result = run['awaited']
    assert run['awaited started']['changed'] and not result['changed']
    assert result['certificate']['pending'] is False and result['certificate']['thumbprint']
    assert (result['operation']['status'], result['operation']['started_by_this_task']) == ('completed', False)
    assert writes_between(run.counters('after the ca'), run.counters('end')) == {'CreateCertificate': 1}
    for case in ('at-ca', 'awaited'):
        assert len(versions_of(certificate_vault, names[case])) == 1


@pytest.fixture(scope='module')
def bad_input_and_force(playbook, localvault, certificate_vault, tmp_path_factory):
    """Bad input on a host per case; then, on localhost, force on a certificate of its own and an import with a password.

    Run with --diff and -vvvv, to show that no password or key shows in any case.
    """
    names = dict((case, unique_name('c-' + case)) for case in ('new', 'deleted', 'force', 'import'))
    self_signed(certificate_vault, names['force'], 'CN=force')
    self_signed(certificate_vault, names['deleted'], 'CN=deleted')
    certificate_vault.begin_delete_certificate(names['deleted']).wait()
    bundle = issue('bad.example.test')
    pem_file = tmp_path_factory.mktemp('bad') / 'bad.pem'
    pem_file.write_text(bundle.pem_bundle())
    cases = {
        'import-with-subject': dict(name=names['new'], certificate_file=str(pem_file), subject='CN=other'),
        'wrong-password': dict(name=names['new'], certificate=bundle.pkcs12_base64('right-password'), password='wrong-password-1b7'),
        'ec-size': dict(name=names['new'], subject='CN=a', key_type='EC', key_size=2048),
        'two-triggers': dict(name=names['new'], subject='CN=a', lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 5,
                                                                                  'lifetime_percentage': 50}]),
        'no-subject': dict(name=names['new'], key_type='RSA'),
        'raw-unknown': dict(name=names['new'], policy={'key_props': {'kty': 'RSA', 'bits': 2048}}),
        'deleted': dict(name=names['deleted'], subject='CN=deleted'),
        'password-alone': dict(name=names['new'], subject='CN=a', password='lonely'),
        'percentage': dict(name=names['new'], subject='CN=a', renew_at_percentage=100),
        'bad-name': dict(name='bad_name', subject='CN=a'),
        # Checked once the vault said there is no certificate yet, so the service's default validity applies.
        'days-beyond-validity': dict(name=names['new'], subject='CN=a', lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 400}]),
    }
    hosts = dict((host, {'case': case}) for host, case in cases.items())
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': [
        counters_task('before', localvault),
        {'name': 'bad input', 'keyvault.azure.certificate': case_arguments(cases), 'ignore_errors': True},
        counters_task('after', localvault),
    ]}
    force = certificate_task(name=names['force'], force=True)
    imported = issue('secret-key.example.test')
    localhost_tasks = [
        dict(force, name='force check', check_mode=True), dict(force, name='force 1'), dict(force, name='force 2'),
        dict(certificate_task(name=names['import'], certificate=imported.pkcs12_base64(PFX_PASSWORD), password=PFX_PASSWORD), name='import'),
        {'name': 'read the key', 'keyvault.azure.certificate_info': {'name': names['import'], 'include_private_key': True}, 'register': 'read'},
        {'name': 'got the key', 'ansible.builtin.assert': {'that': ["read.private_key.startswith('-----BEGIN PRIVATE KEY-----')"], 'quiet': True}},
    ]
    run = playbook([play, {'hosts': 'localhost', 'gather_facts': False, 'tasks': localhost_tasks}], cases=hosts, diff=True, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    return types.SimpleNamespace(run=run, names=names, cases=cases, material={'bundle': bundle, 'imported': imported})


def test_force_makes_a_version_on_every_run(bad_input_and_force, certificate_vault):
    run, names = bad_input_and_force.run, bad_input_and_force.names
    assert run.changed('force check', 'force 1', 'force 2') == [True, True, True]
    assert run['force 1']['reasons'] == ['force is set']
    assert len(versions_of(certificate_vault, names['force'])) == 3


def test_bad_input_fails_before_any_write(bad_input_and_force, localvault):
    run, names, cases = bad_input_and_force.run, bad_input_and_force.names, bad_input_and_force.cases
    messages = dict((host, run.result('bad input', host).get('msg')) for host in cases)
    assert all(run.result('bad input', host)['failed'] for host in cases), messages
    vault_url = localvault.vault_url.rstrip('/')
    assert messages['import-with-subject'] == 'subject cannot be set for an import: they come from the imported certificate'
    assert messages['wrong-password'] == 'certificate is neither a PEM bundle nor a PKCS#12 file that opens with the given password'
    assert messages['ec-size'] == 'key_size 2048 is not an EC key size; use one of 256, 384, 521, or choose a curve'
    assert messages['two-triggers'] == 'parameters are mutually exclusive: days_before_expiry|lifetime_percentage found in lifetime_actions'
    assert messages['no-subject'] == ("certificate '%s' does not exist in vault %s; subject or dns_names (or another subject alternative name) "
                                      "is needed to create it" % (names['new'], vault_url))
    assert messages['raw-unknown'].startswith('policy.key_props.bits is not a policy member the module knows')
    assert messages['deleted'].startswith("certificate '%s' in vault %s is deleted but recoverable (until it is purged on " % (names['deleted'], vault_url))
    assert messages['deleted'].endswith('set recover: true to bring it back, or purge it first (state: absent, purge: true)')
    assert messages['password-alone'] == 'password needs certificate or certificate_file'
    assert messages['percentage'] == 'renew_at_percentage must be between 1 and 99, got 100'
    assert messages['bad-name'] == "invalid certificate name 'bad_name': use 1-127 letters, digits and hyphens"
    assert messages['days-beyond-validity'] == ('lifetime_actions[0].days_before_expiry must be at most 324 for validity_in_months=12 '
                                                '(27 days a month), got 400')
    assert writes_between(run.counters('before'), run.counters('after')) == {}
    assert requests_between(run.counters('before'), run.counters('after'), 'CreateCertificate') == 0


def test_no_password_or_key_in_verbose_diff_output(bad_input_and_force):
    run, material = bad_input_and_force.run, bad_input_and_force.material
    assert run['import']['changed'] and not run['got the key']['failed']
    recorded = repr(run.tasks)
    for text in (PFX_PASSWORD, 'wrong-password-1b7', 'lonely', material['imported'].key_pem().splitlines()[1],
                 material['bundle'].key_pem().splitlines()[1], material['imported'].pkcs12_base64(PFX_PASSWORD)[:40]):
        assert text not in run.output
        assert text not in recorded


def pending_request(certificate_vault, name, subject, **policy):
    """Start an Unknown-issuer creation of ``name`` (pending until a merge) and return its signing request (DER)."""
    return certificate_vault.begin_create_certificate(name, CertificatePolicy(issuer_name='Unknown', subject=subject, **policy)).result().csr


@pytest.fixture(scope='module')
def merge_cases(playbook, localvault, certificate_vault, tmp_path_factory):
    """Pending Unknown-issuer certificates completed with the signed certificate in each form, in four steps (with --diff); then
    signed certificates the module must refuse after reading, before any write."""
    names = dict((case, unique_name('c-' + case)) for case in ('pem', 'der-file', 'base64', 'mismatch', 'not-current', 'missing'))
    ca = make_ca()
    signed = {}
    for case, content_type in (('pem', 'application/x-pem-file'), ('der-file', None), ('base64', None)):
        signed[case] = sign_request(pending_request(certificate_vault, names[case], 'CN=%s.example.test' % case, content_type=content_type), ca)
    der_file = tmp_path_factory.mktemp('signed') / 'signed.der'
    der_file.write_bytes(der_of(signed['der-file'].certificate))
    cases = {
        'pem': dict(name=names['pem'], subject='CN=pem.example.test', issuer='Unknown', tags={'ca': 'own'},
                    signed_certificate=signed['pem'].certificate_pem() + signed['pem'].chain_pem()),
        'der-file': dict(name=names['der-file'], signed_certificate_file=str(der_file)),
        'base64': dict(name=names['base64'], signed_certificate=base64.b64encode(der_of(signed['base64'].certificate)).decode('ascii')),
    }
    four_steps, hosts = four_step_play('keyvault.azure.certificate', cases, localvault)
    run = playbook([four_steps], cases=hosts, diff=True)
    assert run.rc == 0, run.output[-5000:]

    pending_request(certificate_vault, names['mismatch'], 'CN=mismatch.example.test')
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_request = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'other')]))
                     .sign(other_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    self_signed(certificate_vault, names['not-current'], 'CN=not-current.example.test')
    refused = {
        'mismatch': dict(name=names['mismatch'], signed_certificate=sign_request(other_request, ca).certificate_pem()),
        'not-current': dict(name=names['not-current'], signed_certificate=signed['pem'].certificate_pem()),
        'missing': dict(name=names['missing'], signed_certificate=signed['pem'].certificate_pem()),
    }
    refusals = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': [
        counters_task('before', localvault),
        {'name': 'refused', 'keyvault.azure.certificate': case_arguments(refused), 'ignore_errors': True},
        counters_task('after', localvault),
    ]}], cases=dict((host, {'case': case}) for host, case in refused.items()))
    assert refusals.rc == 0, refusals.output[-3000:]
    return types.SimpleNamespace(run=run, refusals=refusals, names=names, cases=cases, signed=signed, ca=ca, other_key=other_key)


def test_merge_completes_the_pending_version_once(merge_cases, certificate_vault):
    assert_four_steps(merge_cases.run, merge_cases.cases, {'MergeCertificate': 3})
    for case in ('pem', 'der-file', 'base64'):
        name = merge_cases.names[case]
        certificate = certificate_vault.get_certificate(name)
        assert bytes(certificate.properties.x509_thumbprint).hex().upper() == merge_cases.signed[case].thumbprint, case
        assert len(versions_of(certificate_vault, name)) == 1
        assert certificate_vault.get_certificate_operation(name).status == 'completed'
    assert certificate_vault.get_certificate(merge_cases.names['pem']).properties.tags == {'ca': 'own'}


def test_the_chain_goes_into_the_backing_secret(merge_cases, vault):
    secret = vault.get_secret(merge_cases.names['pem']).value
    assert merge_cases.signed['pem'].certificate_pem() in secret and merge_cases.ca.certificate_pem() in secret
    assert '-----BEGIN PRIVATE KEY-----' in secret


def test_check_mode_and_diff_predict_the_merge(merge_cases):
    run = merge_cases.run
    for case in ('pem', 'der-file', 'base64'):
        predicted, applied = run.result('cases step 1', case), run.result('cases step 2', case)
        thumbprint = merge_cases.signed[case].thumbprint
        assert (predicted['certificate']['thumbprint'], predicted['certificate']['pending']) == (thumbprint, False), case
        assert predicted['certificate']['subject'] == applied['certificate']['subject'] == 'CN=%s.example.test' % case
        assert predicted['certificate']['expires'] == applied['certificate']['expires']
        for result in (predicted, applied):
            assert result['reasons'] == ['the signed certificate completes the pending request']
            diff = result['diff']
            assert (diff['before']['thumbprint'], diff['after']['thumbprint']) == (None, thumbprint)
            assert diff['before']['version'] == diff['after']['version'] == applied['certificate']['version']
        assert predicted['operation']['status'] == 'inProgress' and applied['operation']['status'] == 'completed'
    assert run.result('cases step 1', 'pem')['diff']['after']['tags'] == {'ca': 'own'}


def key_fingerprint(public_key):
    return hashlib.sha256(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest().upper()


def test_a_wrong_certificate_is_refused_before_any_write(merge_cases, localvault, certificate_vault):
    refusals, names = merge_cases.refusals, merge_cases.names
    messages = dict((host, refusals.result('refused', host).get('msg')) for host in ('mismatch', 'not-current', 'missing'))
    vault_url = localvault.vault_url.rstrip('/')
    pending = certificate_vault.get_certificate_operation(names['mismatch'])
    assert pending.status == 'inProgress'
    request_key = key_fingerprint(x509.load_der_x509_csr(bytes(pending.csr)).public_key())
    assert messages['mismatch'].startswith("signed_certificate for certificate '%s' does not match the pending request: the request is for "
                                           "the RSA 2048-bit key %s, the given certificate (CN=other) holds the EC P-256 key %s" % (
                                               names['mismatch'], request_key, key_fingerprint(merge_cases.other_key.public_key()))), messages['mismatch']
    assert messages['not-current'].startswith("signed_certificate does not match certificate '%s' in vault %s: no request is pending to "
                                              "merge it into and the current version holds another certificate (thumbprint " % (
                                                  names['not-current'], vault_url)), messages['not-current']
    assert all(refusals.result('refused', host)['failed'] for host in messages)
    assert messages['missing'] == ("signed_certificate does not match certificate '%s' in vault %s: no request is pending to merge it into "
                                   "and the certificate does not exist; create the request with issuer: Unknown first" % (names['missing'], vault_url))
    assert writes_between(refusals.counters('before'), refusals.counters('after')) == {}
