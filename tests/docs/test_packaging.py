# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as ansible-galaxy builds it, and the Python packages it declares.

The built archive is what users install: it must carry the plugins, their requirements and the
guides, and none of the tests, which need the local vault that is not shipped. requirements.txt is
what users install on the controller and the managed hosts: it must name every package the plugins
import.
"""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_GALAXY = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')
# What ansible-test needs to test the installed collection, and nothing that needs the local vault.
SHIPPED_TESTS = {'tests/config.yml'}


def built_members(tmp_path):
    subprocess.run([ANSIBLE_GALAXY, 'collection', 'build', '--output-path', str(tmp_path), REPO_ROOT], check=True, capture_output=True)
    (archive,) = tmp_path.glob('keyvault-azure-*.tar.gz')
    with tarfile.open(archive) as tar:
        return {member.name.removeprefix('./') for member in tar.getmembers() if member.isfile()}


def test_built_collection_ships_plugins_docs_and_no_tests_that_need_the_local_vault(tmp_path):
    members = built_members(tmp_path)

    assert {path for path in members if path.startswith('tests/')} == SHIPPED_TESTS
    assert not [path for path in members if path.startswith('localvault/')]
    for required in ('requirements.txt', 'meta/runtime.yml', 'docs/docsite/extra-docs.yml', 'docs/docsite/links.yml',
                     'playbooks/prepare_vm.yml', 'plugins/modules/secret.py', 'plugins/lookup/secret.py'):
        assert required in members
    guides = {os.path.basename(path) for path in members if path.startswith('docs/docsite/rst/')}
    with open(os.path.join(REPO_ROOT, 'docs', 'docsite', 'extra-docs.yml'), encoding='utf-8') as extra_docs:
        listed = set(re.findall(r'^\s*-\s*(guide_\w+)\s*$', extra_docs.read(), re.MULTILINE))
    assert listed and guides == {name + '.rst' for name in listed}


def imported_top_level_modules():
    names = set()
    for folder, unused_subfolders, files in os.walk(os.path.join(REPO_ROOT, 'plugins')):
        for name in files:
            if not name.endswith('.py'):
                continue
            with open(os.path.join(folder, name), encoding='utf-8') as source:
                tree = ast.parse(source.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module)
    return names


def normalized(distribution):
    return re.sub(r'[-_.]+', '-', distribution).lower()


def test_requirements_name_every_package_the_plugins_import():
    distributions_of = importlib.metadata.packages_distributions()
    imported = set()
    for module in imported_top_level_modules():
        top = module.split('.')[0]
        if top in sys.stdlib_module_names or top in ('ansible', 'ansible_collections', '__future__'):
            continue
        candidates = distributions_of.get(top, [])
        # Namespace packages such as azure are shared by several distributions: pick the one that has the module.
        owners = [name for name in candidates if _distribution_has(name, module)] or candidates
        assert owners, 'the plugins import %s, which no installed distribution provides' % module
        imported.update(normalized(name) for name in owners)
    with open(os.path.join(REPO_ROOT, 'requirements.txt'), encoding='utf-8') as requirements:
        declared = {normalized(re.split(r'[<>=!~\[; ]', line.strip(), maxsplit=1)[0])
                    for line in requirements if line.strip() and not line.startswith('#')}

    assert 'cryptography' in imported and 'azure-identity' in imported
    assert imported - declared == set()


def _distribution_has(distribution, module):
    path = module.replace('.', '/')
    return any(str(file).startswith(path + '/') or str(file) == path + '.py' for file in importlib.metadata.files(distribution) or ())
