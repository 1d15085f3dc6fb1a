"""Certificate policies as the service keeps them.

A policy arrives in its wire (REST) shape, often incomplete: ``CertificatePolicy.get_default()``
sends only a subject and an issuer.  The service fills in the rest, rejects what it cannot
honour with 400 BadParameter, merges PATCH updates into the stored policy, and derives a policy
from the certificate itself on import.  The stored form is the wire shape without ``id``.
"""

import copy

from localvault import certs
from localvault.certs import CertificateError

SELF_ISSUER = "Self"
UNKNOWN_ISSUER = "Unknown"
DEFAULT_EKUS = ("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")
DEFAULT_KEY_USAGE = ("digitalSignature", "keyEncipherment")
DEFAULT_VALIDITY_MONTHS = 12
MAX_VALIDITY_MONTHS = 1200
DEFAULT_LIFETIME_PERCENTAGE = 80
# The spec bounds days_before_expiry by validity_months multiplied by 27.
DAYS_PER_MONTH_LIMIT = 27
LIFETIME_ACTION_TYPES = ("EmailContacts", "AutoRenew")
# API 2026-04-01: the platform, not the issuer, issues the certificate (kvspec PlatformManaged,
# "intended for internal use only"); its certificateUsage says for what, its metadata is free-form.
PLATFORM_MANAGED = "platformManaged"
_SECTIONS = ("key_props", "secret_props", "x509_props", "lifetime_actions", "issuer", "attributes", PLATFORM_MANAGED)


def invalid(property_name):
    """The service's generic BadParameter for a policy member it cannot accept."""
    return CertificateError(f"Property {property_name} has invalid value")


def unsupported_key_size(key_size, supported):
    sizes = ", ".join(str(size) for size in supported)
    return CertificateError(f"Unsupported key size ({key_size}). Supported sizes are [{sizes}]", inner_code="KeySizeNotSupported")


def issuer_name(policy):
    return policy["issuer"]["name"]


def is_unknown_issuer(policy):
    return issuer_name(policy).lower() == UNKNOWN_ISSUER.lower()


def is_self_issuer(policy):
    return issuer_name(policy).lower() == SELF_ISSUER.lower()


def content_type(policy):
    return policy["secret_props"]["contentType"]


def requested_content_type(requested):
    """The content type a request's (possibly partial) policy asks for, or None."""
    if not isinstance(requested, dict):
        return None
    secret_props = requested.get("secret_props")
    if not isinstance(secret_props, dict):
        return None
    value = secret_props.get("contentType")
    if value is not None and value not in certs.CONTENT_TYPES:
        raise invalid("contentType")
    return value


def _without_nulls(value):
    """A copy of a JSON value without null members, which clients send for "not given"."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _section(requested, name):
    value = requested.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(name)
    return value


def _boolean(section, name, default):
    value = section.get(name, default)
    if not isinstance(value, bool):
        raise invalid(name)
    return value


def _integer(section, name, default):
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name)
    return value


def complete_policy(requested):
    """The stored policy for a policy sent with create: service defaults filled in, then validated."""
    if not isinstance(requested, dict):
        raise invalid("policy")
    requested = _without_nulls(requested)
    platform_managed = _platform_managed(requested.get(PLATFORM_MANAGED))
    key_props = _key_properties(_section(requested, "key_props"))
    secret_props = _secret_properties(_section(requested, "secret_props"))
    # The platform names a platform-managed certificate itself: the Azure SDK's
    # test_create_certificate_with_platform_managed sends neither subject nor SANs, and the service accepts it.
    x509_props = _x509_properties(_section(requested, "x509_props"), identity_required=platform_managed is None)
    issuer = _issuer(_section(requested, "issuer"), SELF_ISSUER)
    default_action = "EmailContacts" if issuer["name"].lower() == UNKNOWN_ISSUER.lower() else "AutoRenew"
    lifetime_actions = _lifetime_actions(requested.get("lifetime_actions"), default_action, x509_props["validity_months"])
    policy = {
        "key_props": key_props,
        "secret_props": secret_props,
        "x509_props": x509_props,
        "lifetime_actions": lifetime_actions,
        "issuer": issuer,
        "attributes": _policy_attributes(_section(requested, "attributes")),
    }
    if platform_managed is not None:
        policy[PLATFORM_MANAGED] = platform_managed
    return policy


def is_platform_managed(policy):
    return PLATFORM_MANAGED in policy


def update_policy(current, patch):
    """The stored policy after PATCH: given members replace stored ones, the rest stays."""
    if not isinstance(patch, dict):
        raise invalid("policy")
    patch = _without_nulls(patch)
    merged = copy.deepcopy(current)
    for name in _SECTIONS:
        if name not in patch:
            continue
        value = patch[name]
        if name in ("lifetime_actions", PLATFORM_MANAGED):
            merged[name] = value
        elif not isinstance(value, dict):
            raise invalid(name)
        else:
            merged[name] = {**merged.get(name, {}), **value}
    _drop_stale_key_members(current["key_props"], patch.get("key_props") or {}, merged["key_props"])
    completed = complete_policy(merged)
    completed["attributes"] = {**current.get("attributes", {}), **completed["attributes"]}
    return completed


def _drop_stale_key_members(current_key, requested_key, merged_key):
    """Forget key members that only made sense for the previous key type, so defaults apply."""
    new_kty = requested_key.get("kty")
    if not isinstance(new_kty, str):
        return
    old_kty = current_key["kty"]
    if (new_kty in certs.EC_KEY_TYPES) != (old_kty in certs.EC_KEY_TYPES):
        for stale in ("key_size", "crv"):
            if stale not in requested_key:
                merged_key.pop(stale, None)
    if new_kty.endswith("-HSM") != old_kty.endswith("-HSM") and "exportable" not in requested_key:
        merged_key.pop("exportable", None)


def import_policy(requested, private_key, leaf, secret_content_type):
    """The policy the service keeps for an imported certificate.

    Key and X.509 members describe the imported material itself; the request's policy can only
    choose what does not contradict it: exportability, key reuse, content type, lifetime actions
    and issuer.  Without a request policy the issuer is ``Unknown`` and the action emails contacts.
    """
    requested = _without_nulls(requested) if isinstance(requested, dict) else {}
    requested_key = _section(requested, "key_props")
    key_props = certs.describe_key(private_key)
    key_props["exportable"] = _boolean(requested_key, "exportable", True)
    key_props["reuse_key"] = _boolean(requested_key, "reuse_key", False)
    x509_props = certs.describe_certificate(leaf)
    issuer = _issuer(_section(requested, "issuer"), UNKNOWN_ISSUER)
    default_action = "EmailContacts" if issuer["name"].lower() == UNKNOWN_ISSUER.lower() else "AutoRenew"
    return {
        "key_props": key_props,
        "secret_props": {"contentType": secret_content_type},
        "x509_props": x509_props,
        "lifetime_actions": _lifetime_actions(requested.get("lifetime_actions"), default_action, max(x509_props["validity_months"], 1)),
        "issuer": issuer,
        "attributes": _policy_attributes(_section(requested, "attributes")),
    }


def _key_properties(section):
    kty = section.get("kty", "RSA")
    if kty not in certs.RSA_KEY_TYPES + certs.EC_KEY_TYPES:
        raise invalid("kty")
    hsm = kty.endswith("-HSM")
    exportable = _boolean(section, "exportable", not hsm)
    if hsm and exportable:
        # A key that lives in the HSM cannot be handed out inside the certificate's secret.
        raise invalid("exportable")
    props = {"exportable": exportable, "kty": kty}
    if kty in certs.RSA_KEY_TYPES:
        if "crv" in section:
            raise invalid("crv")
        key_size = _integer(section, "key_size", 2048)
        if key_size not in certs.RSA_KEY_SIZES:
            raise unsupported_key_size(key_size, certs.RSA_KEY_SIZES)
        props["key_size"] = key_size
        props["reuse_key"] = _boolean(section, "reuse_key", False)
        return props
    curve_by_size = {256: "P-256", 384: "P-384", 521: "P-521"}
    if "key_size" in section:
        key_size = _integer(section, "key_size", None)
        if key_size not in certs.EC_KEY_SIZES:
            raise unsupported_key_size(key_size, certs.EC_KEY_SIZES)
    crv = section.get("crv") or curve_by_size.get(section.get("key_size"), "P-256")
    if not isinstance(crv, str) or crv not in certs.EC_CURVES:
        raise invalid("crv")
    curve_size = certs.EC_CURVES[crv][1]
    if section.get("key_size", curve_size) != curve_size:
        raise invalid("key_size")
    props["key_size"] = curve_size
    props["reuse_key"] = _boolean(section, "reuse_key", False)
    props["crv"] = crv
    return props


def _secret_properties(section):
    value = section.get("contentType", certs.PKCS12_CONTENT_TYPE)
    if value not in certs.CONTENT_TYPES:
        raise invalid("contentType")
    return {"contentType": value}


def _platform_managed(value):
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("certificateUsage"), str) or not value["certificateUsage"]:
        raise invalid(PLATFORM_MANAGED)
    metadata = value.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise invalid(PLATFORM_MANAGED)
    return copy.deepcopy(value)


def _x509_properties(section, identity_required=True):
    props = {}
    subject = section.get("subject")
    if subject is not None:
        if not isinstance(subject, str):
            raise invalid("subject")
        certs.parse_subject(subject)
        props["subject"] = subject
    sans = section.get("sans")
    if sans is not None:
        if not isinstance(sans, dict) or any(not isinstance(values, list) or not all(isinstance(item, str) for item in values) for values in sans.values()):
            raise invalid("sans")
        certs.subject_alternative_names(sans)
        props["sans"] = sans
    if identity_required and not subject and not certs.subject_alternative_names(sans or {}):
        raise invalid("subject")
    ekus = section.get("ekus", list(DEFAULT_EKUS))
    if not isinstance(ekus, list) or not all(certs.is_object_identifier(oid) for oid in ekus):
        raise invalid("ekus")
    props["ekus"] = ekus
    key_usage = section.get("key_usage", list(DEFAULT_KEY_USAGE))
    if not isinstance(key_usage, list) or not all(usage in certs.KEY_USAGES for usage in key_usage):
        raise invalid("key_usage")
    props["key_usage"] = key_usage
    validity_months = _integer(section, "validity_months", DEFAULT_VALIDITY_MONTHS)
    if not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise invalid("validity_months")
    props["validity_months"] = validity_months
    constraints = section.get("basic_constraints", {})
    if not isinstance(constraints, dict):
        raise invalid("basic_constraints")
    props["basic_constraints"] = {"ca": _boolean(constraints, "ca", False)}
    return props


def _issuer(section, default_name):
    name = section.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise invalid("issuer")
    issuer = {"name": name}
    if "cty" in section:
        issuer["cty"] = section["cty"]
    if "cert_transparency" in section:
        issuer["cert_transparency"] = _boolean(section, "cert_transparency", False)
    return issuer


def _lifetime_actions(actions, default_action, validity_months):
    if actions is None:
        return [{"trigger": {"lifetime_percentage": DEFAULT_LIFETIME_PERCENTAGE}, "action": {"action_type": default_action}}]
    if not isinstance(actions, list):
        raise invalid("lifetime_actions")
    if len(actions) > 1:
        raise CertificateError("At most one action is allowed")
    return [_lifetime_action(action, validity_months) for action in actions]


def _lifetime_action(action, validity_months):
    if not isinstance(action, dict):
        raise invalid("lifetime_actions")
    trigger = _section(action, "trigger")
    if ("lifetime_percentage" in trigger) == ("days_before_expiry" in trigger):
        raise invalid("trigger")
    if "lifetime_percentage" in trigger:
        percentage = _integer(trigger, "lifetime_percentage", None)
        if not 1 <= percentage <= 99:
            raise invalid("lifetime_percentage")
        checked_trigger = {"lifetime_percentage": percentage}
    else:
        days = _integer(trigger, "days_before_expiry", None)
        if not 1 <= days <= validity_months * DAYS_PER_MONTH_LIMIT:
            raise invalid("days_before_expiry")
        checked_trigger = {"days_before_expiry": days}
    action_type = _section(action, "action").get("action_type")
    if action_type not in LIFETIME_ACTION_TYPES:
        raise invalid("action_type")
    return {"trigger": checked_trigger, "action": {"action_type": action_type}}


def _policy_attributes(section):
    return {"enabled": _boolean(section, "enabled", True)}
