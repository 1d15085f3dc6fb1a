# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decision logic of keyvault.azure.secret: desired vs. current, dates, values, diff."""

import datetime
import types

import pytest

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils import _secret_state as state
from ansible_collections.keyvault.azure.plugins.module_utils import _time as time_

UTC = datetime.timezone.utc


def current(**fields):
    base = dict(name='db', id='https://v.vault.azure.net/secrets/db/' + 'a' * 32, version='a' * 32, value='s3cret-value',
                content_type='text/plain', tags={'app': 'shop'}, enabled=True, not_before=None, expires=None)
    base.update(fields)
    return state.SecretState(**base)


def desired(**options):
    return state.desired_state('db', **options)


class TestPlanPresent:

    def test_missing_secret_is_created_with_the_managed_fields(self):
        plan = state.plan_present(desired(value='v1', tags={'a': 1}), None)
        assert plan.action == 'create'
        assert plan.changed_fields == ['tags']
        assert plan.value_changed

    def test_same_value_and_attributes_need_nothing(self):
        plan = state.plan_present(desired(value='s3cret-value', content_type='text/plain', tags={'app': 'shop'}, enabled=True), current())
        assert plan == state.SecretPlan('none', [], False, False)

    def test_unmanaged_attributes_are_not_compared(self):
        plan = state.plan_present(desired(value='s3cret-value'), current(content_type='other', tags={'x': 'y'}, enabled=False, expires=5))
        assert plan.action == 'none'

    def test_new_value_makes_a_new_version(self):
        plan = state.plan_present(desired(value='rotated', tags={'app': 'shop'}), current())
        assert plan.action == 'new_version'
        assert plan.value_changed
        assert plan.changed_fields == []

    def test_attribute_change_alone_updates_in_place(self):
        plan = state.plan_present(desired(value='s3cret-value', enabled=False, expires='2030-01-01'), current())
        assert plan.action == 'update'
        assert plan.changed_fields == ['enabled', 'expires']
        assert not plan.value_changed

    def test_value_and_attributes_together_make_one_new_version(self):
        plan = state.plan_present(desired(value='rotated', content_type='application/json'), current())
        assert plan.action == 'new_version'
        assert plan.changed_fields == ['content_type']

    def test_overwrite_false_keeps_an_existing_value_but_manages_attributes(self):
        assert state.plan_present(desired(value='generated'), current(), overwrite=False).action == 'none'
        plan = state.plan_present(desired(value='generated', tags={'rotated': 'no'}), current(), overwrite=False)
        assert plan.action == 'update'
        assert not plan.value_changed

    def test_overwrite_false_still_creates(self):
        assert state.plan_present(desired(value='generated'), None, overwrite=False).action == 'create'

    def test_attributes_only_task_never_touches_the_value(self):
        plan = state.plan_present(desired(tags={'app': 'shop'}), current())
        assert plan.action == 'none'

    @pytest.mark.parametrize('tags, current_tags, action', [
        ({}, {'app': 'shop'}, 'update'),
        ({}, {}, 'none'),
        ({'n': 1}, {'n': '1'}, 'none'),
        ({'app': 'shop', 'extra': 'x'}, {'app': 'shop'}, 'update'),
    ])
    def test_tags_are_compared_as_a_whole_with_string_values(self, tags, current_tags, action):
        assert state.plan_present(desired(tags=tags), current(tags=current_tags)).action == action

    def test_empty_content_type_equals_none(self):
        assert state.plan_present(desired(content_type=''), current(content_type=None)).action == 'none'

    def test_dates_compare_as_whole_seconds(self):
        expires = time_.parse_timestamp('2030-01-01T00:00:00Z', 'expires')
        assert state.plan_present(desired(expires='2030-01-01T00:00:00.750Z'), current(expires=expires)).action == 'none'
        assert state.plan_present(desired(expires='2030-01-01T00:00:01Z'), current(expires=expires)).action == 'update'

    def test_disabled_current_version_value_is_not_compared(self):
        hidden = current(value=None, value_known=False, enabled=False)
        plan = state.plan_present(desired(value='anything', enabled=False), hidden)
        assert plan.action == 'none'
        assert plan.value_not_compared
        enable = state.plan_present(desired(value='anything', enabled=True), hidden)
        assert enable.action == 'update'
        assert enable.changed_fields == ['enabled']
        assert enable.value_not_compared


class TestStateAfter:

    def test_create_defaults_to_enabled_and_no_tags(self):
        wanted = desired(value='v1', content_type='text/plain')
        after = state.state_after(wanted, None, state.plan_present(wanted, None))
        assert (after.enabled, after.tags, after.content_type, after.value, after.version) == (True, {}, 'text/plain', 'v1', None)

    def test_new_version_carries_unmanaged_attributes(self):
        wanted = desired(value='rotated', enabled=False)
        before = current(expires=1893456000)
        after = state.state_after(wanted, before, state.plan_present(wanted, before))
        assert (after.value, after.enabled, after.expires, after.tags, after.version) == ('rotated', False, 1893456000, {'app': 'shop'}, None)

    def test_update_keeps_version_and_value(self):
        wanted = desired(tags={'b': '2'})
        before = current()
        after = state.state_after(wanted, before, state.plan_present(wanted, before))
        assert (after.version, after.value, after.tags) == (before.version, 's3cret-value', {'b': '2'})

    def test_nothing_to_do_returns_the_current_state(self):
        before = current()
        assert state.state_after(desired(), before, state.plan_present(desired(), before)) is before


class TestDiff:

    def test_diff_never_contains_the_value(self):
        wanted = desired(value='brand-new-value', tags={'k': 'v'})
        before = current()
        plan = state.plan_present(wanted, before)
        diff = state.present_diff(before, state.state_after(wanted, before, plan), plan)
        assert 'brand-new-value' not in repr(diff) and 's3cret-value' not in repr(diff)
        assert diff['before']['value'] == state.VALUE_HIDDEN
        assert diff['after']['value'] == state.VALUE_CHANGED
        assert (diff['before']['tags'], diff['after']['tags']) == ({'app': 'shop'}, {'k': 'v'})

    def test_unchanged_value_shows_the_same_marker_on_both_sides(self):
        wanted = desired(value='s3cret-value', enabled=False)
        before = current()
        plan = state.plan_present(wanted, before)
        diff = state.present_diff(before, state.state_after(wanted, before, plan), plan)
        assert diff['before']['value'] == diff['after']['value'] == state.VALUE_HIDDEN
        assert (diff['before']['enabled'], diff['after']['enabled']) == (True, False)

    def test_creation_diff_starts_from_absent(self):
        wanted = desired(value='v1', expires='2030-01-01')
        plan = state.plan_present(wanted, None)
        diff = state.present_diff(None, state.state_after(wanted, None, plan), plan)
        assert diff['before'] == {'state': 'absent'}
        assert diff['after']['state'] == 'present'
        assert diff['after']['expires'] == '2030-01-01T00:00:00Z'


class TestTimestamps:

    @pytest.mark.parametrize('text, expected', [
        ('2030-01-31', datetime.datetime(2030, 1, 31, tzinfo=UTC)),
        ('2030-01-31T12:30', datetime.datetime(2030, 1, 31, 12, 30, tzinfo=UTC)),
        ('2030-01-31T12:30:15Z', datetime.datetime(2030, 1, 31, 12, 30, 15, tzinfo=UTC)),
        ('2030-01-31 12:30:15.999z', datetime.datetime(2030, 1, 31, 12, 30, 15, tzinfo=UTC)),
        ('2030-01-31T12:30:15+02:00', datetime.datetime(2030, 1, 31, 10, 30, 15, tzinfo=UTC)),
        ('2030-01-31T12:30:15-0130', datetime.datetime(2030, 1, 31, 14, 0, 15, tzinfo=UTC)),
        ('1893456000', datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ])
    def test_accepted_formats(self, text, expected):
        seconds = time_.parse_timestamp(text, 'expires')
        assert time_.timestamp_to_datetime(seconds) == expected
        assert time_.datetime_to_timestamp(expected) == seconds

    @pytest.mark.parametrize('text', ['tomorrow', '2030-13-01', '2030-02-30', '31/01/2030', '2030-01-31T25:00', ''])
    def test_refused_formats_name_the_option(self, text):
        with pytest.raises(KeyVaultInputError, match="^not_before: '.*' is not a date"):
            time_.parse_timestamp(text, 'not_before')

    @pytest.mark.parametrize('text', ['9999-12-31T23:59:59-00:01', '253402300800', '99999999999999999'])
    def test_dates_after_year_9999_are_refused(self, text):
        with pytest.raises(KeyVaultInputError, match="^expires: '%s' is later than 9999-12-31T23:59:59Z, the latest date Key Vault takes$" % text):
            time_.parse_timestamp(text, 'expires')

    def test_the_last_second_of_9999_is_taken(self):
        assert time_.format_timestamp(time_.parse_timestamp('9999-12-31T23:59:59Z', 'expires')) == '9999-12-31T23:59:59Z'

    def test_format_is_iso_utc(self):
        assert time_.format_timestamp(1893456000) == '2030-01-01T00:00:00Z'
        assert time_.format_timestamp(None) is None

    def test_naive_datetimes_are_utc(self):
        assert time_.datetime_to_timestamp(datetime.datetime(2030, 1, 1)) == 1893456000


class TestValues:

    def test_a_value_with_bytes_that_are_not_utf8_is_refused_without_quoting_it(self):
        with pytest.raises(KeyVaultInputError, match='^value holds bytes that are not UTF-8 text') as raised:
            state.check_secret_value('secret-\udcff-part')
        assert 'secret-' not in str(raised.value)

    def test_empty_value_is_refused(self):
        with pytest.raises(KeyVaultInputError, match='empty'):
            desired(value='')

    def test_value_limit_counts_utf8_bytes_and_never_quotes_the_value(self):
        state.check_secret_value('x' * state.MAX_VALUE_BYTES)
        with pytest.raises(KeyVaultInputError) as raised:
            state.check_secret_value(u'\u00e9' * (state.MAX_VALUE_BYTES // 2 + 1))
        assert '25602 bytes' in str(raised.value)
        assert u'\u00e9' not in str(raised.value)


def sdk_properties(**fields):
    base = dict(name='db', id='https://v/secrets/db/' + 'b' * 32, version='b' * 32, content_type=None, tags=None, enabled=True,
                not_before=None, expires_on=datetime.datetime(2030, 1, 1, tzinfo=UTC),
                created_on=datetime.datetime(2026, 1, 1, tzinfo=UTC), updated_on=datetime.datetime(2026, 1, 2, tzinfo=UTC),
                recovery_level='Recoverable+Purgeable', recoverable_days=90, managed=None, key_id=None)
    base.update(fields)
    return types.SimpleNamespace(**base)


class TestFromSdk:

    def test_secret_bundle_becomes_state_and_description_without_value(self):
        secret = types.SimpleNamespace(value='hunter2-value', properties=sdk_properties(tags={'a': 'b'}))
        current_state = state.state_from_secret(secret)
        assert (current_state.value, current_state.expires, current_state.tags) == ('hunter2-value', 1893456000, {'a': 'b'})
        description = state.to_result(current_state)
        assert 'hunter2-value' not in repr(description)
        assert description['attributes'] == {
            'enabled': True, 'not_before': None, 'expires': '2030-01-01T00:00:00Z', 'created': '2026-01-01T00:00:00Z',
            'updated': '2026-01-02T00:00:00Z', 'recovery_level': 'Recoverable+Purgeable', 'recoverable_days': 90}
        assert (description['tags'], description['managed'], description['version']) == ({'a': 'b'}, False, 'b' * 32)

    def test_deleted_secret_description(self):
        deleted = types.SimpleNamespace(recovery_id='https://v/deletedsecrets/db', deleted_date=datetime.datetime(2026, 2, 1, tzinfo=UTC),
                                        scheduled_purge_date=datetime.datetime(2026, 2, 8, tzinfo=UTC))
        description = state.to_result(state.state_from_properties(sdk_properties()), deleted=deleted)
        assert (description['deleted_on'], description['scheduled_purge_date']) == ('2026-02-01T00:00:00Z', '2026-02-08T00:00:00Z')
        assert description['recovery_id'] == 'https://v/deletedsecrets/db'

    def test_properties_without_value_mark_it_unknown(self):
        hidden = state.state_from_properties(sdk_properties(enabled=False), value_known=False)
        assert not hidden.value_known and hidden.value is None

    def test_unknown_field_is_a_programming_error(self):
        with pytest.raises(TypeError):
            state.SecretState(colour='blue')


class TestStateObject:

    def test_replace_copies_with_changes_and_equality_compares_every_field(self):
        current = state.SecretState(name='db', value='old-value', tags={'app': 'shop'})
        changed = current.replace(value='new-value')
        assert (type(changed), changed.name, changed.value, changed.tags, current.value) == (
            state.SecretState, 'db', 'new-value', {'app': 'shop'}, 'old-value')
        assert changed != current and changed == current.replace(value='new-value')

    def test_the_value_never_shows_in_the_repr(self):
        shown = repr(state.SecretState(name='db', value='hunter2-value', enabled=True))
        assert shown == "SecretState(name='db', value_known=True, enabled=True)"

    def test_unknown_fields_are_refused(self):
        with pytest.raises(TypeError, match='unknown secret fields: colour'):
            state.SecretState(name='db', colour='red')
