# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""On a vault with the Azure RBAC permission model, the built-in role and scope the documentation names for each use are
enough, and a role that lacks the use's data action is refused with a message naming the action and a role granting it.

A vault of its own holds one identity per use, each with exactly the role assignments of the RBAC column of docs/docsite/rst/guide_permissions.rst.
"""

from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from cryptography.hazmat.primitives.asymmetric import ec

from certificate_material import issue, make_ca, sign_request
from playbook_helpers import LocalVaultCredential

TEST_CONFIG = {'deletion_delay_seconds': 0, 'recovery_delay_seconds': 0, 'certificate_creation_delay_seconds': 0,
               'soft_delete_retention_days': 7, 'permission_model': 'rbac'}

KEPT, REMOVED = 'rbac-kept', 'rbac-removed'
KEPT_TLS, REMOVED_TLS = 'rbac-kept-tls', 'rbac-removed-tls'
MERGED_TLS = 'rbac-merged-tls'
SET_KEPT, SET_REMOVED = 'rbac-set-kept', 'rbac-set-removed'
READER, SECRETS_USER, SECRETS_OFFICER = 'Key Vault Reader', 'Key Vault Secrets User', 'Key Vault Secrets Officer'
CERTIFICATES_OFFICER, CERTIFICATE_USER = 'Key Vault Certificates Officer', 'Key Vault Certificate User'

# Identity -> its role assignments (role, scope), as the "Azure RBAC" columns of guide_permissions.rst name them for each use.
ASSIGNMENTS = {
    'secret-reader': [(SECRETS_USER, 'secrets/' + KEPT)],
    'secret-lister': [(READER, '/')],
    'secret-writer': [(SECRETS_OFFICER, 'secrets/' + KEPT)],
    'secret-deleter': [(SECRETS_OFFICER, 'secrets/' + REMOVED)],
    'secret-recoverer': [(SECRETS_OFFICER, 'secrets/' + REMOVED)],
    'secret-purger': [(SECRETS_OFFICER, 'secrets/' + REMOVED)],
    'certificate-creator': [(CERTIFICATES_OFFICER, 'certificates/' + KEPT_TLS)],
    'certificate-importer': [(CERTIFICATES_OFFICER, 'certificates/' + REMOVED_TLS)],
    'certificate-merger': [(CERTIFICATES_OFFICER, 'certificates/' + MERGED_TLS)],
    'certificate-reader': [(READER, 'certificates/' + KEPT_TLS)],
    'certificate-lister': [(READER, '/')],
    'key-reader': [(CERTIFICATE_USER, 'certificates/' + KEPT_TLS), (SECRETS_USER, 'secrets/' + KEPT_TLS)],
    'certificate-secret-reader': [(SECRETS_USER, 'secrets/' + KEPT_TLS)],
    'set-writer': [(SECRETS_OFFICER, 'secrets/' + SET_KEPT), (SECRETS_OFFICER, 'secrets/' + SET_REMOVED)],
    'set-reader': [(SECRETS_USER, 'secrets/' + SET_KEPT), (SECRETS_USER, 'secrets/' + SET_REMOVED)],
    'set-exclusive-writer': [(SECRETS_OFFICER, '/')],
}

BUNDLE = issue('imported.example.test', key=ec.generate_private_key(ec.SECP256R1()))

# Refused task -> (identity, the data action and role its message names, where the action is needed).
REFUSALS = {
    'secret reader cannot write': ('secret-reader', 'Microsoft.KeyVault/vaults/secrets/setSecret/action', SECRETS_OFFICER,
                                   'the vault or secrets/' + KEPT),
    'secret reader cannot read another secret': ('secret-reader', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', SECRETS_USER,
                                                 'the vault or secrets/' + REMOVED),
    'secret reader cannot look up another secret': ('secret-reader', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', SECRETS_USER,
                                                    'the vault or secrets/' + REMOVED),
    'secret reader cannot list': ('secret-reader', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', READER, 'the vault'),
    'secret lister cannot read a value': ('secret-lister', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', SECRETS_USER,
                                          'the vault or secrets/' + KEPT),
    'certificate reader cannot create': ('certificate-reader', 'Microsoft.KeyVault/vaults/certificates/create/action', CERTIFICATES_OFFICER,
                                         'the vault or certificates/' + KEPT_TLS),
    'certificate reader cannot read the key': ('certificate-reader', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', SECRETS_USER,
                                               'the vault or secrets/' + KEPT_TLS),
    'certificate creator cannot list': ('certificate-creator', 'Microsoft.KeyVault/vaults/certificates/read', READER, 'the vault'),
}


def run_least_privilege(playbook, localvault_factory):
    identities = [{'name': name} for name in ASSIGNMENTS]
    assignments = [{'identity': name, 'role': role, 'scope': scope} for name, roles in ASSIGNMENTS.items() for role, scope in roles]
    # The operator makes the pending request that certificate-merger completes.
    assignments.append({'identity': 'operator', 'role': CERTIFICATES_OFFICER, 'scope': 'certificates/' + MERGED_TLS})
    rbac_vault = localvault_factory(config=dict(TEST_CONFIG, identities=identities, role_assignments=assignments))
    ids = dict((name, rbac_vault.identities[name]['client_id']) for name in ASSIGNMENTS)
    operator = CertificateClient(rbac_vault.vault_url, LocalVaultCredential(rbac_vault, 'operator'), verify_challenge_resource=False,
                                 connection_verify=rbac_vault.ca_bundle)
    request = operator.begin_create_certificate(MERGED_TLS, CertificatePolicy(issuer_name='Unknown', subject='CN=merged.example.test')).result()
    signed = sign_request(request.csr, make_ca()).certificate_pem()

    def task(title, module, identity, **arguments):
        return {'name': title, 'keyvault.azure.' + module: dict(arguments, client_id=ids[identity])}

    def refused(title, module, **arguments):
        return dict(task(title, module, REFUSALS[title][0], **arguments), ignore_errors=True)

    def lookup(plugin, identity, term, **options):
        extra = ''.join(", %s='%s'" % item for item in sorted(options.items()))
        return "{{ lookup('keyvault.azure.%s', '%s', client_id='%s'%s) }}" % (plugin, term, ids[identity], extra)

    tasks = [
        task('secret writer creates', 'secret', 'secret-writer', name=KEPT, value='first', tags={'app': 'rbac'}),
        task('secret writer rotates', 'secret', 'secret-writer', name=KEPT, value='second', tags={'app': 'rbac'}),
        task('secret writer tags', 'secret', 'secret-writer', name=KEPT, tags={'app': 'rbac', 'tier': '1'}),
        dict(task('secret reader reads', 'secret_info', 'secret-reader', name=KEPT), register='read'),
        {'name': 'secret reader got the value', 'ansible.builtin.assert': {'that': ["read.value == 'second'"], 'quiet': True}},
        {'name': 'secret reader looks up', 'ansible.builtin.set_fact': {'looked_up': lookup('secret', 'secret-reader', KEPT)}},
        task('secret reader lists versions', 'secret_info', 'secret-reader', name=KEPT, list_versions=True),
        task('secret lister lists', 'secret_info', 'secret-lister', tags={'app': 'rbac'}),
        task('secret deleter creates another', 'secret', 'secret-deleter', name=REMOVED, value='doomed'),
        task('secret deleter deletes', 'secret', 'secret-deleter', name=REMOVED, state='absent'),
        task('secret recoverer recovers', 'secret', 'secret-recoverer', name=REMOVED, value='doomed', recover=True),
        task('secret purger deletes and purges', 'secret', 'secret-purger', name=REMOVED, state='absent', purge=True),
        refused('secret reader cannot write', 'secret', name=KEPT, value='third'),
        refused('secret reader cannot read another secret', 'secret_info', name=REMOVED),
        {'name': 'secret reader cannot look up another secret', 'ignore_errors': True,
         'ansible.builtin.set_fact': {'other': lookup('secret', 'secret-reader', REMOVED)}},
        refused('secret reader cannot list', 'secret_info', tags={'app': 'rbac'}),
        refused('secret lister cannot read a value', 'secret_info', name=KEPT),
        task('set writer converges a set', 'secrets', 'set-writer', tags={'set': 'rbac'}, secrets=[
            {'name': SET_KEPT, 'value': 'set-kept-value'}, {'name': SET_REMOVED, 'value': 'set-removed-value'}]),
        dict(task('set reader reads names', 'secret_info', 'set-reader', names=[SET_KEPT, SET_REMOVED]), register='many'),
        {'name': 'set reader got the values', 'ansible.builtin.assert': {'quiet': True, 'that': [
            "many.secret_values['%s'] == 'set-kept-value'" % SET_KEPT]}},
        task('set exclusive writer removes the unlisted', 'secrets', 'set-exclusive-writer', tags={'set': 'rbac'},
             exclusive_tags={'set': 'rbac'}, secrets=[{'name': SET_KEPT, 'value': 'set-kept-value'}]),

        dict(task('certificate creator creates', 'certificate', 'certificate-creator', name=KEPT_TLS, subject='CN=kept.example.test',
                  content_type='PEM', tags={'app': 'rbac'}), register='created'),
        task('certificate creator updates tags', 'certificate', 'certificate-creator', name=KEPT_TLS, tags={'app': 'rbac', 'tier': '1'}),
        task('certificate importer imports', 'certificate', 'certificate-importer', name=REMOVED_TLS, certificate=BUNDLE.pem_bundle()),
        dict(task('certificate reader reads', 'certificate_info', 'certificate-reader', name=KEPT_TLS, include_pem=True), register='read_tls'),
        {'name': 'certificate reader looks up the certificate', 'ansible.builtin.set_fact': {
            'looked_up_tls': lookup('certificate', 'certificate-reader', KEPT_TLS, part='certificate')}},
        task('certificate lister lists', 'certificate_info', 'certificate-lister', tags={'app': 'rbac'}),
        dict(task('key reader reads the key', 'certificate_info', 'key-reader', name=KEPT_TLS, include_private_key=True), register='with_key'),
        {'name': 'key reader got the key', 'ansible.builtin.assert': {
            'that': ["with_key.private_key.startswith('-----BEGIN PRIVATE KEY-----')"], 'quiet': True}},
        {'name': 'secret reader of the certificate looks up everything', 'ansible.builtin.set_fact': {
            'parts': lookup('certificate', 'certificate-secret-reader', KEPT_TLS, part='all')}},
        task('certificate importer deletes and purges', 'certificate', 'certificate-importer', name=REMOVED_TLS, state='absent', purge=True),
        task('certificate merger merges', 'certificate', 'certificate-merger', name=MERGED_TLS, signed_certificate='{{ signed }}'),
        refused('certificate reader cannot create', 'certificate', name=KEPT_TLS, force=True),
        refused('certificate reader cannot read the key', 'certificate_info', name=KEPT_TLS, include_private_key=True),
        refused('certificate creator cannot list', 'certificate_info', tags={'app': 'rbac'}),
    ]
    return rbac_vault, ids, playbook(tasks, identity=None, env=rbac_vault.env, extra_vars={'signed': signed})


def test_the_documented_roles_suffice_and_a_role_without_the_action_is_refused_naming_it(playbook, localvault_factory):
    rbac_vault, ids, run = run_least_privilege(playbook, localvault_factory)
    failed = [name for name, by_host in run.tasks.items() if name not in REFUSALS and next(iter(by_host.values())).get('failed')]
    assert failed == [], run.output[-3000:]

    assert run.changed('secret writer creates', 'secret writer rotates', 'secret writer tags') == [True] * 3
    assert run['secret reader looks up']['ansible_facts']['looked_up'] == 'second'
    assert len(run['secret reader lists versions']['secrets']) == 2
    assert [item['name'] for item in run['secret lister lists']['secrets']] == [KEPT]
    assert run.changed('secret deleter deletes', 'secret recoverer recovers', 'secret purger deletes and purges') == [True] * 3
    assert run.changed('certificate creator creates', 'certificate creator updates tags', 'certificate importer imports') == [True] * 3
    assert run['certificate reader reads']['pem'].startswith('-----BEGIN CERTIFICATE-----')
    assert run['certificate reader looks up the certificate']['ansible_facts']['looked_up_tls'] == run['certificate reader reads']['pem']
    assert [item['name'] for item in run['certificate lister lists']['certificates']] == [KEPT_TLS]
    assert run['key reader reads the key']['censored'] and not run['key reader got the key']['failed']
    assert run['secret reader of the certificate looks up everything']['ansible_facts']['parts']['private_key'].startswith('-----BEGIN PRIVATE KEY-----')
    assert run.changed('certificate importer deletes and purges', 'certificate merger merges') == [True, True]
    assert run.changed('set writer converges a set', 'set exclusive writer removes the unlisted') == [True] * 2
    assert run['set reader reads names']['censored'] and not run['set reader got the values']['failed']
    assert [(item['name'], item['changed']) for item in run['set exclusive writer removes the unlisted']['results']] == [
        (SET_KEPT, False), (SET_REMOVED, True)]
    statuses = rbac_vault.counters()['statuses']
    assert statuses['PurgeDeletedSecret'] == {'204': 1} and statuses['PurgeDeletedCertificate'] == {'204': 1}
    assert statuses['MergeCertificate'] == {'201': 1}

    for name, (identity, data_action, role, where) in REFUSALS.items():
        result = run[name]
        assert result['failed'], name
        assert ('was denied by Azure RBAC: the user-assigned managed identity with client_id %s has no role assignment at %s that grants '
                'the data action %s; the built-in role %s grants it (the vault said: Caller is not authorized to perform action on resource.'
                % (ids[identity], where, data_action, role)) in result['msg'], (name, result['msg'])
        assert "Action: '%s'" % data_action in result['msg'], name
