# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network floor of the benchmark: the plugins' work done by a minimal direct Azure SDK script.

Run by tests/bench/bench.py as ``python sdk_floor.py JOB``, where JOB is a JSON object:

* ``{"kind": "secrets", "vault_url", "ca_bundle", "client_id": null, "names": [...], "workers": 0 | N}`` reads
  each name with one ManagedIdentityCredential and one SecretClient, one after the other (``workers`` 0) or on a
  thread pool of ``workers`` threads after a first read alone (as the collection's lookup does, so that the
  credential gets one token and the client meets the vault's challenge once);
* ``{"kind": "converge", "vault_url", "ca_bundle", "client_id", "names": [...], "workers": N}`` sends for each name the
  requests the ``secrets`` module sends for a new secret: a read that finds nothing, a read of the deleted secret that
  finds nothing, and the write;
* ``{"kind": "rollout", "vault_url", "ca_bundle", "manager_client_id", "host_client_ids": [...], "certificate_name",
  "dns_names": [...], "workers": 0 | N}`` creates a certificate once as the manager, then, for each host with its own
  identity, reads the certificate and its backing secret (the private key).

It prints ``{"seconds": ..., "import_seconds": ..., "values": N}`` as JSON: the time from before the Azure imports to
the last value, of which the imports took ``import_seconds``.
"""

import time

STARTED = time.perf_counter()

# pylint: disable=wrong-import-position
import json  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from azure.core.exceptions import ResourceNotFoundError  # noqa: E402
from azure.identity import ManagedIdentityCredential  # noqa: E402
from azure.keyvault.certificates import CertificateClient, CertificateContentType, CertificatePolicy  # noqa: E402
from azure.keyvault.secrets import SecretClient  # noqa: E402

IMPORTED = time.perf_counter()


def credential(client_id):
    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


def run_all(function, items, workers):
    """``function`` over ``items`` in order: one after the other, or the first alone and the rest on ``workers`` threads."""
    if not workers:
        return [function(item) for item in items]
    results = [function(items[0])]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results.extend(pool.map(function, items[1:]))
    return results


def read_secrets(job):
    client = SecretClient(job['vault_url'], credential(job.get('client_id')), verify_challenge_resource=False,
                          connection_verify=job['ca_bundle'])
    return run_all(lambda name: client.get_secret(name).value, job['names'], job['workers'])


def converge_secrets(job):
    client = SecretClient(job['vault_url'], credential(job.get('client_id')), verify_challenge_resource=False,
                          connection_verify=job['ca_bundle'])

    def converge(name):
        for read in (client.get_secret, client.get_deleted_secret):
            try:
                read(name)
            except ResourceNotFoundError:
                continue
            raise RuntimeError('secret %s is not new' % name)
        return client.set_secret(name, 'value of ' + name).value

    return run_all(converge, job['names'], job['workers'])


def roll_out(job):
    manager = CertificateClient(job['vault_url'], credential(job['manager_client_id']), verify_challenge_resource=False,
                                connection_verify=job['ca_bundle'])
    policy = CertificatePolicy(issuer_name='Self', subject='CN=' + job['dns_names'][0], san_dns_names=job['dns_names'],
                               content_type=CertificateContentType.pem, exportable=True, validity_in_months=12)
    created = manager.begin_create_certificate(job['certificate_name'], policy).result()

    def fetch(client_id):
        host_credential = credential(client_id)
        options = dict(verify_challenge_resource=False, connection_verify=job['ca_bundle'])
        certificate = CertificateClient(job['vault_url'], host_credential, **options).get_certificate_version(
            job['certificate_name'], created.properties.version)
        return SecretClient(job['vault_url'], host_credential, **options).get_secret(job['certificate_name'], certificate.properties.version).value

    return run_all(fetch, job['host_client_ids'], job['workers'])


def main():
    job = json.loads(sys.argv[1])
    values = {'secrets': read_secrets, 'converge': converge_secrets, 'rollout': roll_out}[job['kind']](job)
    finished = time.perf_counter()
    json.dump({'seconds': finished - STARTED, 'import_seconds': IMPORTED - STARTED, 'values': sum(1 for value in values if value)}, sys.stdout)


if __name__ == '__main__':
    main()
