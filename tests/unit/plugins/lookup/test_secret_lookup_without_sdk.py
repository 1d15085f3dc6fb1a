# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A secret lookup answered from the run's value cache does not import the Azure SDK (what makes it cheap per host)."""

import json
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# Runs in a fresh interpreter, as a worker process would be: stores a value in the run's cache as another host's
# lookup would have, then looks it up.
WORKER = '''
import json, sys
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([sys.argv[1]])
from ansible.parsing.dataloader import DataLoader
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import this_run

vault_url = 'https://myvault.vault.azure.net'
lookup = lookup_loader.get('keyvault.azure.secret', loader=DataLoader(), templar=None)
lookup.set_options(var_options={}, direct={'vault_url': vault_url, 'value_cache': True})
key = [lookup.connection_options().client_key(), vault_url, 'db-password', None]
this_run().cache.shared('secret-value', key, lambda: {'value': 'value read by another host'})
imported_before = sorted(name for name in sys.modules if name.startswith(('azure.identity', 'azure.keyvault')))
values = lookup.run(['db-password'], variables={}, vault_url=vault_url, value_cache=True)
imported_after = sorted(name for name in sys.modules if name.startswith(('azure.identity', 'azure.keyvault')))
print(json.dumps({'values': [str(value) for value in values], 'before': imported_before, 'after': imported_after}))
'''


def test_a_value_from_the_run_cache_needs_no_sdk_import(tmp_path):
    collections = tmp_path / 'collections'
    (collections / 'ansible_collections' / 'keyvault').mkdir(parents=True)
    os.symlink(REPO_ROOT, str(collections / 'ansible_collections' / 'keyvault' / 'azure'))
    environment = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_KEYVAULT_'))
    environment['XDG_RUNTIME_DIR'] = str(tmp_path)
    completed = subprocess.run([sys.executable, '-c', WORKER, str(collections)], env=environment, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.splitlines()[-1])
    assert outcome == {'values': ['value read by another host'], 'before': [], 'after': []}
