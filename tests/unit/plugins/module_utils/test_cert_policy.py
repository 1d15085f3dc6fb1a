# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decision logic of keyvault.azure.certificate: policies stated vs. held, renewal, plans, diff."""

import types

import pytest
import yaml

from ansible_collections.keyvault.azure.plugins.module_utils import _cert_policy as cp
from ansible_collections.keyvault.azure.plugins.module_utils import _cert_state as cs
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.modules import certificate as certificate_module

SERVER_AUTH, CLIENT_AUTH = '1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'
DAY = 86400


def held_policy(**fields):
    """A complete policy as the vault reports one for a self-signed certificate."""
    policy = cp.with_service_defaults(dict(cp.empty_policy(), subject='CN=web', dns_names=['web.example.com']))
    policy.update(fields)
    return policy


def held(**fields):
    base = dict(name='web', id='https://v.vault.azure.net/certificates/web/' + 'a' * 32, version='a' * 32, issued=True,
                thumbprint='AB' * 20, enabled=True, tags={'app': 'shop'}, not_before=1000 * DAY, expires=1365 * DAY, policy=held_policy())
    base.update(fields)
    return cs.CertificateState(**base)


def stated(**fields):
    return cp.desired_policy(None, **fields)


class TestRawPolicy:

    def test_rest_shape(self):
        policy = cp.policy_from_raw({
            'key_props': {'kty': 'EC', 'crv': 'P-384', 'exportable': False, 'reuse_key': True},
            'secret_props': {'contentType': 'application/x-pem-file'},
            'x509_props': {'subject': 'CN=a', 'sans': {'dns_names': ['a.example'], 'upns': ['u@example'], 'ipAddresses': ['10.0.0.1']},
                           'ekus': [SERVER_AUTH], 'key_usage': ['digitalSignature'], 'validity_months': 6},
            'lifetime_actions': [{'trigger': {'days_before_expiry': 30}, 'action': {'action_type': 'AutoRenew'}}],
            'issuer': {'name': 'Self', 'cty': 'OV-SSL', 'cert_transparency': False},
        })
        assert policy == dict(cp.empty_policy(), key_type='EC', curve='P-384', exportable=False, reuse_key=True,
                              content_type='application/x-pem-file', subject='CN=a', dns_names=['a.example'], upns=['u@example'],
                              ip_addresses=['10.0.0.1'], ekus=[SERVER_AUTH], key_usage=['digitalSignature'], validity_in_months=6,
                              lifetime_actions=[{'days_before_expiry': 30, 'action': 'AutoRenew'}], issuer='Self',
                              certificate_type='OV-SSL', certificate_transparency=False)

    def test_azure_cli_shape_with_read_only_members(self):
        policy = cp.policy_from_raw({
            'id': 'https://v.vault.azure.net/certificates/a/policy',
            'attributes': {'enabled': True},
            'keyProperties': {'keyType': 'RSA', 'keySize': 4096, 'reuseKey': False, 'exportable': True},
            'x509CertificateProperties': {'subject': 'CN=b', 'subjectAlternativeNames': {'dnsNames': ['b.example']}, 'validityInMonths': 24,
                                          'keyUsage': ['keyEncipherment']},
            'lifetimeActions': [{'trigger': {'lifetimePercentage': 90}, 'action': {'actionType': 'EmailContacts'}}],
            'issuerParameters': {'name': 'Unknown', 'certificateType': None},
            'secretProperties': {'contentType': 'application/x-pkcs12'},
        })
        assert (policy['key_type'], policy['key_size'], policy['subject'], policy['dns_names'], policy['validity_in_months']) == (
            'RSA', 4096, 'CN=b', ['b.example'], 24)
        assert policy['lifetime_actions'] == [{'lifetime_percentage': 90, 'action': 'EmailContacts'}]
        assert (policy['issuer'], policy['certificate_type'], policy['content_type']) == ('Unknown', None, 'application/x-pkcs12')

    @pytest.mark.parametrize('raw, message', [
        ({'key_props': {'kty': 'RSA', 'size': 2048}}, 'policy.key_props.size is not a policy member the module knows'),
        ({'basic_constraints': {}}, 'policy.basic_constraints is not a policy section the module knows'),
        ({'key_props': {'key_size': '2048'}}, "policy.key_props.key_size must be a whole number, got '2048'"),
        ({'x509_props': {'ekus': 'serverAuth'}}, "policy.x509_props.ekus must be a list of strings, got 'serverAuth'"),
        ({'key_props': {'exportable': 'yes'}}, "policy.key_props.exportable must be true or false, got 'yes'"),
        ({'lifetime_actions': {'trigger': {}}}, 'policy.lifetime_actions must be a list'),
        ({'lifetime_actions': [{'trigger': {'when': 3}}]}, 'policy.lifetime_actions[0].trigger.when is not a trigger'),
        ('CN=a', 'policy must be a dictionary'),
    ])
    def test_mistakes_are_named(self, raw, message):
        with pytest.raises(KeyVaultInputError) as raised:
            cp.policy_from_raw(raw)
        assert str(raised.value).startswith(message)

    def test_options_win_over_the_raw_policy(self):
        policy = cp.desired_policy({'x509_props': {'subject': 'CN=raw', 'sans': {'upns': ['u@example']}}}, subject='CN=option')
        assert (policy['subject'], policy['upns']) == ('CN=option', ['u@example'])


class TestNormalization:

    def test_canonical_spellings(self):
        policy = stated(key_type='ec-hsm', curve='p-521', content_type='application/x-pem-file', ekus=['serverauth', '1.2.3.4'],
                        key_usage=['digitalsignature'], lifetime_actions=[{'action': 'autorenew', 'lifetime_percentage': 50}],
                        ip_addresses=['2001:DB8::1'])
        assert (policy['key_type'], policy['curve'], policy['content_type']) == ('EC-HSM', 'P-521', 'PEM')
        assert policy['ekus'] == [SERVER_AUTH, '1.2.3.4']
        assert policy['key_usage'] == ['digitalSignature']
        assert policy['lifetime_actions'] == [{'action': 'AutoRenew', 'lifetime_percentage': 50}]
        assert policy['ip_addresses'] == ['2001:db8::1']

    @pytest.mark.parametrize('fields, message', [
        (dict(key_type='RSA', key_size=1024), 'key_size 1024 is not an RSA key size; use one of 2048, 3072, 4096'),
        (dict(key_size=256), 'key_size 256 is not an RSA key size'),
        (dict(key_type='RSA', curve='P-256'), 'curve P-256 needs key_type EC or EC-HSM, not RSA'),
        (dict(curve='P-256'), 'curve P-256 needs key_type EC or EC-HSM'),
        (dict(key_type='EC', key_size=2048), 'key_size 2048 is not an EC key size; use one of 256, 384, 521, or choose a curve'),
        (dict(key_type='EC', key_size=384, curve='P-256'), 'key_size 384 does not fit curve P-256, whose keys have 256 bits'),
        (dict(key_type='RSA-HSM', exportable=True), 'a key of type RSA-HSM stays in the HSM and cannot be exportable'),
        (dict(key_type='DSA'), 'key_type must be one of RSA, RSA-HSM, EC, EC-HSM, got DSA'),
        (dict(validity_in_months=0), 'validity_in_months must be between 1 and 1200, got 0'),
        (dict(validity_in_months=1201), 'validity_in_months must be between 1 and 1200, got 1201'),
        (dict(content_type='DER'), 'content_type must be PEM or PKCS12'),
        (dict(ekus=['webAuth']), "ekus: 'webAuth' is neither an object identifier"),
        (dict(key_usage=['sign']), 'key_usage must be one of digitalSignature'),
        (dict(ip_addresses=['10.0.0.300']), "ip_addresses: '10.0.0.300' is not an IPv4 or IPv6 address"),
        (dict(subject=' '), 'subject must not be empty'),
        (dict(lifetime_actions=[{'action': 'AutoRenew', 'lifetime_percentage': 50, 'days_before_expiry': 5}]),
         'lifetime_actions[0] needs exactly one of days_before_expiry and lifetime_percentage'),
        (dict(lifetime_actions=[{'action': 'AutoRenew'}]), 'lifetime_actions[0] needs exactly one of'),
        (dict(lifetime_actions=[{'lifetime_percentage': 50}]), 'lifetime_actions[0] needs an action'),
        (dict(lifetime_actions=[{'action': 'AutoRenew', 'lifetime_percentage': 100}]),
         'lifetime_actions[0].lifetime_percentage must be between 1 and 99, got 100'),
        (dict(lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 0}]), 'lifetime_actions[0].days_before_expiry must be at least 1'),
        (dict(lifetime_actions=[{'action': 'Rotate', 'days_before_expiry': 3}]), 'lifetime_actions[0].action must be one of AutoRenew, EmailContacts'),
        (dict(lifetime_actions=[{'action': 'AutoRenew', 'lifetime_percentage': 80}, {'action': 'EmailContacts', 'days_before_expiry': 30}]),
         'lifetime_actions holds 2 actions; Key Vault takes one action per certificate'),
        (dict(validity_in_months=6, lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 163}]),
         'lifetime_actions[0].days_before_expiry must be at most 162 for validity_in_months=6 (27 days a month), got 163'),
        (dict(subject='www.example.com'), "subject 'www.example.com' is not a distinguished name: give attribute=value pairs"),
        (dict(subject='CN=web,,O=Contoso'), "subject 'CN=web,,O=Contoso' is not a distinguished name"),
        (dict(subject='=web'), "subject '=web' is not a distinguished name"),
    ])
    def test_what_the_service_would_refuse_is_refused_first(self, fields, message):
        with pytest.raises(KeyVaultInputError) as raised:
            stated(**fields)
        assert str(raised.value).startswith(message)

    def test_ec_key_size_alone_is_fine(self):
        assert stated(key_type='EC', key_size=384)['key_size'] == 384

    @pytest.mark.parametrize('subject', ['CN=web', 'CN = web , O=Contoso\\, Ltd', 'CN="Smith, John"; OU=a=b', 'OID.2.5.4.3=web'])
    def test_distinguished_names_with_escapes_quotes_and_semicolons_pass(self, subject):
        assert stated(subject=subject)['subject'] == subject

    def test_days_before_expiry_up_to_27_a_month_and_unchecked_without_a_validity(self):
        assert stated(validity_in_months=6, lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 162}])['validity_in_months'] == 6
        assert stated(lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 400}])['lifetime_actions'][0]['days_before_expiry'] == 400
        with pytest.raises(KeyVaultInputError) as raised:
            cp.check_lifetime_fits_validity(cp.with_service_defaults(stated(subject='CN=a', lifetime_actions=[
                {'action': 'AutoRenew', 'days_before_expiry': 400}])))
        assert str(raised.value) == 'lifetime_actions[0].days_before_expiry must be at most 324 for validity_in_months=12 (27 days a month), got 400'

    def test_key_agreement_with_its_restrictions_is_fine(self):
        assert stated(key_usage=['keyAgreement', 'encipheronly'])['key_usage'] == ['keyAgreement', 'encipherOnly']


class TestComparison:

    def test_unstated_fields_are_not_compared(self):
        assert cp.changed_policy_fields(stated(), held_policy(key_type='EC', subject='CN=other')) == []

    def test_equivalent_spellings_are_equal(self):
        desired = stated(subject='cn = web', dns_names=['WEB.example.com.'], ekus=['clientAuth', 'serverAuth'],
                         key_usage=['keyEncipherment', 'digitalSignature'], issuer='self', key_type='rsa',
                         lifetime_actions=[{'action': 'AutoRenew', 'lifetime_percentage': 80}])
        assert cp.changed_policy_fields(desired, held_policy()) == []

    def test_subject_values_keep_their_case_and_escaped_commas(self):
        assert cp.normalize_subject('CN = web , o=Contoso\\, Ltd') == 'CN=web,O=Contoso\\, Ltd'
        assert cp.changed_policy_fields(stated(subject='CN=Web'), held_policy()) == ['subject']

    def test_sets_and_removal(self):
        current = held_policy(ip_addresses=['10.0.0.1', '::1'])
        assert cp.changed_policy_fields(stated(ip_addresses=['0:0::1', '10.0.0.1']), current) == []
        assert cp.changed_policy_fields(stated(dns_names=[]), current) == ['dns_names']
        assert cp.changed_policy_fields(stated(emails=[]), current) == []

    def test_every_differing_field_is_reported_in_order(self):
        desired = stated(subject='CN=new', key_size=4096, validity_in_months=6, reuse_key=True, issuer='Unknown',
                         lifetime_actions=[{'action': 'EmailContacts', 'days_before_expiry': 10}], content_type='PEM')
        assert cp.changed_policy_fields(desired, held_policy()) == [
            'subject', 'key_size', 'validity_in_months', 'content_type', 'reuse_key', 'issuer', 'lifetime_actions']


class TestMerge:

    def test_stated_fields_over_the_current_policy(self):
        merged = cp.merged_policy(stated(validity_in_months=3), held_policy())
        assert merged == dict(held_policy(), validity_in_months=3)

    def test_switching_key_family_drops_size_and_curve(self):
        merged = cp.merged_policy(stated(key_type='EC'), held_policy())
        assert (merged['key_type'], merged['key_size'], merged['curve']) == ('EC', None, None)
        merged = cp.merged_policy(stated(key_type='EC', curve='P-384'), held_policy())
        assert (merged['key_size'], merged['curve']) == (None, 'P-384')

    def test_switching_to_an_hsm_drops_exportable(self):
        merged = cp.merged_policy(stated(key_type='RSA-HSM'), held_policy())
        assert (merged['key_size'], merged['exportable']) == (2048, None)

    def test_service_defaults(self):
        assert cp.with_service_defaults(stated(subject='CN=a', key_type='EC', key_size=384)) == dict(
            cp.empty_policy(), subject='CN=a', key_type='EC', key_size=384, curve='P-384', exportable=True, reuse_key=False,
            content_type='PKCS12', ekus=[SERVER_AUTH, CLIENT_AUTH], key_usage=['digitalSignature', 'keyEncipherment'],
            validity_in_months=12, issuer='Self', lifetime_actions=[{'action': 'AutoRenew', 'lifetime_percentage': 80}])
        unknown = cp.with_service_defaults(stated(subject='CN=a', issuer='Unknown', key_type='RSA-HSM'))
        assert (unknown['lifetime_actions'][0]['action'], unknown['exportable'], unknown['key_size']) == ('EmailContacts', False, 2048)


class TestSdk:

    def test_policy_from_the_sdk_reads_enums_and_lifetime_actions(self):
        enum = types.SimpleNamespace
        sdk_policy = types.SimpleNamespace(
            subject='CN=a', san_dns_names=['a.example'], san_ip_addresses=None, san_emails=None, san_user_principal_names=None,
            san_uris=None, key_type=enum(value='EC'), key_size=256, key_curve_name=enum(value='P-256'), exportable=True,
            enhanced_key_usage=[SERVER_AUTH], key_usage=[enum(value='digitalSignature')], validity_in_months=12,
            content_type=enum(value='application/x-pem-file'), reuse_key=False, issuer_name='Self', certificate_type=None,
            certificate_transparency=None,
            lifetime_actions=[types.SimpleNamespace(action=enum(value='AutoRenew'), lifetime_percentage=None, days_before_expiry=20)])
        policy = cp.policy_from_sdk(sdk_policy)
        assert (policy['key_type'], policy['curve'], policy['content_type'], policy['key_usage']) == ('EC', 'P-256', 'PEM', ['digitalSignature'])
        assert policy['lifetime_actions'] == [{'action': 'AutoRenew', 'days_before_expiry': 20}]
        assert cp.policy_from_sdk(None) == cp.empty_policy()

    def test_sdk_arguments_leave_out_unset_fields_and_use_mime_types(self):
        arguments = cp.sdk_policy_arguments(stated(subject='CN=a', content_type='PEM', dns_names=['a.example']))
        assert arguments == {'subject': 'CN=a', 'content_type': 'application/x-pem-file', 'san_dns_names': ['a.example']}

    def test_import_policy_carries_the_key_type_and_no_x509_fields(self):
        fields = cp.import_policy(held_policy(exportable=False), 'EC')
        assert fields['key_type'] == 'EC' and fields['exportable'] is False
        assert all(field not in fields for field in ('subject', 'dns_names', 'key_size', 'curve', 'ekus', 'validity_in_months'))


class TestRenewal:

    def test_before_expiry(self):
        state = held(not_before=0, expires=100 * DAY)
        assert cs.renewal_reason(state, 89 * DAY, before_expiry_days=10) is None
        assert cs.renewal_reason(state, 90 * DAY, before_expiry_days=10) == 'it expires on 1970-04-11T00:00:00Z, within renew_before_expiry_days=10'

    def test_at_percentage(self):
        state = held(not_before=0, expires=100 * DAY)
        assert cs.renewal_reason(state, 59 * DAY, at_percentage=60) is None
        assert cs.renewal_reason(state, 60 * DAY, at_percentage=60) == '60% of its lifetime has passed (renew_at_percentage=60)'
        assert cs.renewal_reason(state, 300 * DAY, at_percentage=60) == '100% of its lifetime has passed (renew_at_percentage=60)'

    def test_nothing_asked_nothing_due(self):
        assert cs.renewal_reason(held(not_before=0, expires=DAY), 10 * DAY) is None
        assert cs.renewal_reason(held(expires=None), 0, before_expiry_days=10) is None


class TestPlan:

    def test_missing_certificate_is_created_or_imported(self):
        plan = cs.plan_present(stated(subject='CN=a'), {'tags': {'a': '1'}}, None)
        assert plan == cs.CertificatePlan('create', ['subject'], ['tags'], ['the certificate does not exist'])
        assert cs.plan_present(stated(), {}, None, import_thumbprint='CD' * 20).action == 'import'

    def test_matching_certificate_needs_nothing(self):
        plan = cs.plan_present(stated(subject='CN=web', dns_names=['web.example.com']), {'enabled': True, 'tags': {'app': 'shop'}}, held())
        assert plan == cs.CertificatePlan('none', [], [], [])

    def test_fields_of_the_issued_certificate_make_a_new_version(self):
        plan = cs.plan_present(stated(dns_names=['other.example.com'], issuer='Unknown'), {}, held())
        assert plan.action == 'new_version'
        assert plan.policy_fields == ['dns_names', 'issuer']
        assert plan.reasons == ['dns_names of the issued certificate differs']

    def test_policy_only_fields_and_properties_update_in_place(self):
        plan = cs.plan_present(stated(reuse_key=True, lifetime_actions=[{'action': 'AutoRenew', 'days_before_expiry': 30}]),
                               {'enabled': False, 'tags': {}}, held())
        assert plan == cs.CertificatePlan('update', ['reuse_key', 'lifetime_actions'], ['enabled', 'tags'], [])

    def test_renewal_force_and_unissued_versions(self):
        assert cs.plan_present(stated(), {}, held(), renewal='it expires soon').reasons == ['it expires soon']
        assert cs.plan_present(stated(), {}, held(), force=True).reasons == ['force is set']
        plan = cs.plan_present(stated(), {}, held(issued=False, thumbprint=None))
        assert (plan.action, plan.reasons) == ('new_version', ['the current version was never issued'])

    def test_import_is_idempotent_by_thumbprint(self):
        assert cs.plan_present(stated(), {}, held(), import_thumbprint='ab' * 20).action == 'none'
        plan = cs.plan_present(stated(), {}, held(), import_thumbprint='CD' * 20)
        assert (plan.action, plan.reasons) == ('import', ['the given certificate differs from the current version (thumbprint %s)' % ('AB' * 20)])

    def test_import_reimports_for_content_type_and_exportability_only(self):
        assert cs.plan_present(stated(content_type='PEM'), {}, held(), import_thumbprint='AB' * 20).action == 'import'
        assert cs.plan_present(stated(issuer='Self2'), {}, held(), import_thumbprint='AB' * 20).action == 'update'


class TestStateAfter:

    def test_create_predicts_the_service_defaults(self):
        desired = stated(subject='CN=a', content_type='PEM')
        plan = cs.plan_present(desired, {}, None)
        after = cs.state_after(plan, desired, {}, None, 'a')
        assert (after.name, after.version, after.issued, after.enabled, after.tags) == ('a', None, True, True, {})
        assert (after.policy['content_type'], after.policy['key_size'], after.policy['issuer']) == ('PEM', 2048, 'Self')

    def test_unknown_issuer_stays_pending(self):
        desired = stated(subject='CN=a', issuer='Unknown')
        after = cs.state_after(cs.plan_present(desired, {}, None), desired, {}, None, 'a')
        assert after.issued is False
        assert cs.to_result(after)['pending'] is True

    def test_new_version_carries_the_current_properties(self):
        current = held(enabled=False)
        desired = stated(validity_in_months=3)
        after = cs.state_after(cs.plan_present(desired, {}, current), desired, {}, current, 'web')
        assert (after.version, after.thumbprint, after.enabled, after.tags) == (None, None, False, {'app': 'shop'})
        assert after.policy['validity_in_months'] == 3

    def test_update_keeps_the_version(self):
        current = held()
        desired = stated(reuse_key=True)
        after = cs.state_after(cs.plan_present(desired, {'tags': {}}, current), desired, {'tags': {}}, current, 'web')
        assert (after.version, after.thumbprint, after.tags, after.policy['reuse_key']) == (current.version, current.thumbprint, {}, True)

    def test_import_takes_the_material(self):
        description = {'thumbprint': 'CD' * 20, 'x5t': 'zc3N', 'subject': 'CN=imported', 'sans': {'dns_names': ['i.example']},
                       'key_type': 'EC', 'key_size': 256, 'curve': 'P-256'}
        desired = dict(stated(), content_type='PEM')
        after = cs.state_after(cs.plan_present(desired, {}, None, import_thumbprint='CD' * 20), desired, {}, None, 'i', description)
        assert (after.thumbprint, after.subject, after.issued) == ('CD' * 20, 'CN=imported', True)
        assert (after.policy['subject'], after.policy['dns_names'], after.policy['key_type'], after.policy['issuer']) == (
            'CN=imported', ['i.example'], 'EC', 'Unknown')

    def test_nothing_to_do_keeps_the_state(self):
        current = held()
        assert cs.state_after(cs.CertificatePlan('none', [], [], []), stated(), {}, current, 'web') is current


class TestOutput:

    def test_diff_shows_policy_and_marks_a_new_version(self):
        view = cs.diff_view(held(), new_version=True)
        assert view['version'] == '(new version)'
        assert view['policy']['subject'] == 'CN=web'
        assert cs.diff_view(None, lifecycle='deleted') == {'state': 'deleted'}

    def test_describe_has_every_documented_key(self):
        described = cs.to_result(held())
        documented = yaml.safe_load(certificate_module.RETURN)['certificate']['contains']
        assert sorted(described) == sorted(documented)
        assert described['expires'] == '1973-09-27T00:00:00Z'
        assert cs.to_result(None) == {}

    def test_csr_is_pem(self):
        assert cs.csr_pem(b'\x30\x03\x02\x01\x00') == '-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n'
        assert cs.csr_pem('MAMCAQA=') == cs.csr_pem(b'\x30\x03\x02\x01\x00')

    def test_operation(self):
        operation = types.SimpleNamespace(status='inProgress', status_details='waiting', issuer_name=types.SimpleNamespace(value='Unknown'),
                                          csr=b'\x30\x00', request_id='r1', cancellation_requested=False, error=None)
        described = cs.operation_to_result(operation, started_here=False)
        assert described['issuer'] == 'Unknown' and described['started_by_this_task'] is False
        assert described['csr'].startswith('-----BEGIN CERTIFICATE REQUEST-----')
        assert cs.operation_to_result(None) is None
