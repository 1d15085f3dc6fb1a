# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate and secret permissions the documentation names for each certificate plugin and option are enough,
and one fewer is refused with a message naming the missing permission.

A vault of its own holds one identity per use, each with exactly the documented permissions. The uses run one after
the other on localhost, with the refusals that need a deleted certificate or the lookup among them; then the other
refusals run at once, one host each, each with an identity that lacks one permission the use needs.
"""

import types

from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from cryptography.hazmat.primitives.asymmetric import ec

from certificate_material import issue, make_ca, sign_request
from playbook_helpers import LocalVaultCredential, case_arguments

# The session vault's short delays (tests/conftest.py), so that creating and deleting do not wait.
TEST_CONFIG = {'deletion_delay_seconds': 0, 'recovery_delay_seconds': 0, 'certificate_creation_delay_seconds': 0,
               'soft_delete_retention_days': 7}

# Identity -> (certificate permissions, secret permissions), as docs/docsite/rst/guide_permissions.rst names them.
PERMISSIONS = {
    'creator': (['get', 'create'], []),
    'updater': (['get', 'update'], []),
    'importer': (['get', 'import'], []),
    'reader': (['get'], []),
    'lister': (['list'], []),
    'key-reader': (['get'], ['get']),
    'secret-reader': ([], ['get']),
    'deleter': (['get', 'delete'], []),
    'recoverer': (['get', 'recover'], []),
    'purger': (['get', 'delete', 'purge'], []),
    'merger': (['get', 'create'], []),
    # One fewer than the creator: the module reads before it writes.
    'creator-without-get': (['create'], []),
}

KEPT, REMOVED, NEVER = 'kept-tls', 'removed-tls', 'never-made-tls'
# Pending Unknown-issuer certificates, their signed certificates in the extra variables of the same names.
MERGED, NOT_MERGED = 'merged-tls', 'not-merged-tls'
BUNDLE = issue('imported.example.test', key=ec.generate_private_key(ec.SECP256R1()))

# Host -> (module, identity, arguments, the permission the refusal names): each identity has one permission fewer
# than the use needs (reader lacks create, update, import, delete, list or secrets get; secret-reader lacks certificates get).
REFUSALS = {
    'create-without-get': ('keyvault.azure.certificate', 'creator-without-get', dict(name=NEVER, subject='CN=never'), 'certificates/get'),
    'create-without-create': ('keyvault.azure.certificate', 'reader', dict(name=NEVER, subject='CN=never'), 'certificates/create'),
    'update-without-update': ('keyvault.azure.certificate', 'reader', dict(name=KEPT, tags={'app': 'other'}), 'certificates/update'),
    'import-without-import': ('keyvault.azure.certificate', 'reader', dict(name=NEVER, certificate=BUNDLE.pem_bundle()), 'certificates/import'),
    'delete-without-delete': ('keyvault.azure.certificate', 'reader', dict(name=KEPT, state='absent'), 'certificates/delete'),
    'list-without-list': ('keyvault.azure.certificate_info', 'reader', dict(tags={'app': 'cert'}), 'certificates/list'),
    'key-without-secrets-get': ('keyvault.azure.certificate_info', 'reader', dict(name=KEPT, include_private_key=True), 'secrets/get'),
    'read-without-get': ('keyvault.azure.certificate_info', 'secret-reader', dict(name=KEPT, include_pem=True), 'certificates/get'),
    # MergeCertificate needs create, not update (kvspec certificates.json).
    'merge-with-update': ('keyvault.azure.certificate', 'updater', dict(name=NOT_MERGED, signed_certificate='{{ signed_not_merged }}'),
                          'certificates/create'),
}
# Refusals that need the removed certificate in its deleted state, or a lookup: in the sequence on localhost.
SEQUENCE_REFUSALS = {
    'deleter cannot purge': ('deleter', 'certificates/purge'),
    'reader cannot recover': ('reader', 'certificates/recover'),
    'reader cannot look up the key': ('reader', 'secrets/get'),
}

# Write operation -> HTTP statuses the vault answered it with in the run.
WRITE_STATUSES = {
    # Two of the creations are the operator's pending requests for MERGED and NOT_MERGED; the first of them meets the SDK's
    # authentication challenge (401) before it is sent with a token.
    'CreateCertificate': {'202': 4, '401': 1, '403': 1},
    'MergeCertificate': {'201': 1, '403': 1},
    'ImportCertificate': {'200': 1, '403': 1},
    'UpdateCertificatePolicy': {'200': 1},
    'UpdateCertificate': {'200': 1, '403': 1},
    'DeleteCertificate': {'200': 2, '403': 1},
    'RecoverDeletedCertificate': {'200': 1, '403': 1},
    'PurgeDeletedCertificate': {'204': 1, '403': 1},
}


def run_least_privilege(playbook, localvault_factory):
    privilege_vault = localvault_factory(config=dict(TEST_CONFIG, identities=[
        {'name': name, 'system_assigned': False, 'permissions': {'certificates': certificates, 'secrets': secrets}}
        for name, (certificates, secrets) in PERMISSIONS.items()]))
    ids = dict((name, privilege_vault.identities[name]['client_id']) for name in PERMISSIONS)
    operator = CertificateClient(privilege_vault.vault_url, LocalVaultCredential(privilege_vault, 'operator'), verify_challenge_resource=False,
                                 connection_verify=privilege_vault.ca_bundle)
    ca = make_ca()
    signed = {}
    for name in (MERGED, NOT_MERGED):
        request = operator.begin_create_certificate(name, CertificatePolicy(issuer_name='Unknown', subject='CN=%s.example.test' % name)).result()
        signed['signed_' + name.replace('-tls', '').replace('-', '_')] = sign_request(request.csr, ca).certificate_pem()

    def certificate(identity, **arguments):
        return {'keyvault.azure.certificate': dict(arguments, client_id=ids[identity])}

    def info(identity, **arguments):
        return {'keyvault.azure.certificate_info': dict(arguments, client_id=ids[identity])}

    def lookup(identity, term, part):
        return "{{ lookup('keyvault.azure.certificate', '%s', part='%s', client_id='%s') }}" % (term, part, ids[identity])

    uses = [
        dict(certificate('creator', name=KEPT, subject='CN=kept.example.test', content_type='PEM', tags={'app': 'cert'}),
             name='creator creates', register='created'),
        dict(certificate('creator', name=KEPT, force=True), name='creator makes a new version'),
        dict(certificate('updater', name=KEPT, reuse_key=True, lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 30}],
                         tags={'app': 'cert', 'tier': '1'}), name='updater updates policy and tags'),
        dict(certificate('importer', name=REMOVED, certificate=BUNDLE.pem_bundle()), name='importer imports'),
        dict(info('reader', name=KEPT, include_pem=True), name='reader reads'),
        dict(info('reader', name=KEPT, version='{{ created.certificate.version }}'), name='reader reads the first version'),
        {'name': 'reader looks up the certificate', 'ansible.builtin.set_fact': {'looked_up': lookup('reader', KEPT, 'certificate')}},
        dict(info('lister', tags={'app': 'cert'}), name='lister lists'),
        dict(info('lister', name=KEPT, list_versions=True), name='lister lists versions'),
        dict(info('key-reader', name=KEPT, include_chain=True, include_private_key=True), name='key reader reads the key', register='with_key'),
        {'name': 'key reader got the key', 'ansible.builtin.assert': {
            'that': ["with_key.private_key.startswith('-----BEGIN PRIVATE KEY-----')", "with_key.chain_pem == ''"], 'quiet': True}},
        {'name': 'secret reader looks up everything', 'ansible.builtin.set_fact': {'parts': lookup('secret-reader', KEPT, 'all')}},
        dict(certificate('deleter', name=REMOVED, state='absent'), name='deleter deletes'),
        dict(info('lister', deleted=True), name='lister lists deleted'),
        dict(certificate('deleter', name=REMOVED, state='absent', purge=True), name='deleter cannot purge', ignore_errors=True),
        dict(certificate('reader', name=REMOVED, recover=True), name='reader cannot recover', ignore_errors=True),
        {'name': 'reader cannot look up the key', 'ignore_errors': True,
         'ansible.builtin.set_fact': {'key': lookup('reader', KEPT, 'private_key')}},
        dict(certificate('recoverer', name=REMOVED, recover=True), name='recoverer recovers'),
        dict(certificate('purger', name=REMOVED, state='absent', purge=True), name='purger deletes and purges'),
        dict(certificate('merger', name=MERGED, signed_certificate='{{ signed_merged }}'), name='merger merges'),
    ]
    hosts = dict((host, {'case': dict(arguments, client_id=ids[identity]), 'module': module})
                 for host, (module, identity, arguments, _permission) in REFUSALS.items())
    refusals = []
    for module in sorted(set(module for module, _identity, _arguments, _permission in REFUSALS.values())):
        arguments = case_arguments(dict((host, host_vars['case']) for host, host_vars in hosts.items() if host_vars['module'] == module))
        refusals.append({'name': module, module: arguments, 'when': 'module == %r' % module, 'ignore_errors': True})
    plays = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': uses},
             {'hosts': 'cases', 'gather_facts': False, 'tasks': refusals}]
    run = playbook(plays, identity=None, env=privilege_vault.env, cases=hosts, extra_vars=signed)
    return types.SimpleNamespace(run=run, vault=privilege_vault, ids=ids)


def denial(least_privilege, identity, permission):
    """The part of a refusal message that names the identity and the permission, and the vault's own words for it."""
    collection, operation = permission.split('/')
    return ('was denied: the user-assigned managed identity with client_id %s lacks the %s permission' % (least_privilege.ids[identity], permission),
            'does not have %s %s permission' % (collection, operation))


def test_the_documented_permissions_suffice_and_one_fewer_is_refused(playbook, localvault_factory):
    least_privilege = run_least_privilege(playbook, localvault_factory)
    run = least_privilege.run
    failed = [task for task, by_host in run.tasks.items()
              if task not in SEQUENCE_REFUSALS and not task.startswith('keyvault.azure.') and next(iter(by_host.values())).get('failed')]
    assert failed == [], run.output[-3000:]

    assert run.changed('creator creates', 'creator makes a new version', 'updater updates policy and tags', 'importer imports') == [True] * 4
    assert run['updater updates policy and tags']['certificate']['policy']['reuse_key'] is True
    assert run['reader reads']['pem'].startswith('-----BEGIN CERTIFICATE-----')
    assert run['reader reads the first version']['certificate']['version'] == run['creator creates']['certificate']['version']
    assert run['reader looks up the certificate']['ansible_facts']['looked_up'] == run['reader reads']['pem']
    assert [item['name'] for item in run['lister lists']['certificates']] == [KEPT]
    assert len(run['lister lists versions']['certificates']) == 2
    assert run['secret reader looks up everything']['ansible_facts']['parts']['private_key'].startswith('-----BEGIN PRIVATE KEY-----')
    assert [item['name'] for item in run['lister lists deleted']['certificates']] == [REMOVED]
    assert run.changed('deleter deletes', 'recoverer recovers', 'purger deletes and purges', 'merger merges') == [True] * 4
    assert run['merger merges']['certificate']['pending'] is False
    # Each write went through once, and each refused one reached the vault once and was refused there.
    statuses = least_privilege.vault.counters()['statuses']
    assert dict((operation, statuses.get(operation)) for operation in WRITE_STATUSES) == WRITE_STATUSES

    refusals = dict((task, (run[task], identity, permission)) for task, (identity, permission) in SEQUENCE_REFUSALS.items())
    refusals.update((host, (run.result(module, host), identity, permission)) for host, (module, identity, _arguments, permission) in REFUSALS.items())
    for case, (result, identity, permission) in refusals.items():
        assert result['failed'], case
        for expected in denial(least_privilege, identity, permission):
            assert expected in result['msg'], (case, result['msg'])
