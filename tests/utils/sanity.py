#!/usr/bin/env python
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``ansible-test sanity`` on this checkout.

ansible-test wants the collection at ``.../ansible_collections/keyvault/azure``, so the files git
knows about (tracked, plus new ones that are not ignored) are copied into such a tree in a temporary
folder. Each sanity test gets a virtual environment that ansible-test bootstraps with a ``get-pip``
script it downloads from a host that offline machines cannot reach; when that download fails, a
small replacement that bootstraps pip with ``ensurepip`` is put in ansible-test's cache instead.
"""

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOTSTRAP_URL = 'https://ci-files.testing.ansible.com/ansible-test/get-pip-{version}.py'

OFFLINE_BOOTSTRAP = '''\
"""Stand-in for get-pip written by keyvault.azure's tests/utils/sanity.py: bootstraps pip from
ensurepip, then installs the pip release ansible-test asked for."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# pip install does not know the get-pip-only flags.
requested = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
ca_bundle = {ca_bundle!r}
cert = ['--cert', ca_bundle] if ca_bundle and os.path.exists(ca_bundle) else []
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + cert + requested))
'''


def collection_files():
    """Paths, relative to the repository, that belong in the collection tree ansible-test inspects."""
    output = subprocess.run(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'],
        cwd=REPO_ROOT, check=True, capture_output=True,
    ).stdout.decode('utf-8')
    return sorted({path for path in output.split('\0') if path and os.path.lexists(os.path.join(REPO_ROOT, path))})


def copy_collection(destination):
    for relative in collection_files():
        target = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, relative), target, follow_symlinks=False)


def pinned_pip_version():
    """The pip release ansible-test bootstraps into its environments (it names the cache file)."""
    import ansible_test  # pylint: disable=import-outside-toplevel
    source_path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source_path, encoding='utf-8') as source:
        match = re.search(r"pip='([0-9.]+)'", source.read())
    if not match:
        raise SystemExit('cannot tell which pip release ansible-test pins; update tests/utils/sanity.py')
    return match.group(1)


def ensure_pip_bootstrap():
    version = pinned_pip_version()
    cache_path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % version.replace('.', '_'))
    if os.path.exists(cache_path):
        return
    os.makedirs(os.path.dirname(cache_path), exist_ok=True)
    try:
        with urllib.request.urlopen(BOOTSTRAP_URL.format(version=version), timeout=15) as response:
            content = response.read().decode('utf-8')
    except OSError as error:
        print('sanity: get-pip %s cannot be downloaded (%s); using an ensurepip bootstrap instead' % (version, error))
        content = OFFLINE_BOOTSTRAP.format(ca_bundle=ssl.get_default_verify_paths().cafile)
    with open(cache_path + '.tmp', 'w', encoding='utf-8') as cache_file:
        cache_file.write(content)
    os.replace(cache_path + '.tmp', cache_path)


def main(arguments):
    ensure_pip_bootstrap()
    python_version = '%d.%d' % sys.version_info[:2]
    ansible_test = os.path.join(os.path.dirname(sys.executable), 'ansible-test')
    with tempfile.TemporaryDirectory(prefix='keyvault-sanity-') as scratch:
        collection_root = os.path.join(scratch, 'ansible_collections', 'keyvault', 'azure')
        copy_collection(collection_root)
        command = [ansible_test, 'sanity', '--local', '--python', python_version, '--color', 'no'] + arguments
        return subprocess.call(command, cwd=collection_root)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
