"""Command line: ``python -m localvault --state-dir DIR [--host H] [--advertised-host NAME] [--vault-port N] [--imds-port N]
[--ephemeral] [--config FILE] [--tools-dir DIR] [--collections-path DIR]``."""

import argparse
import ipaddress
import logging
import re
import signal
import sys
import threading

from localvault import config as vault_config
from localvault.server import ENV_FILE, LocalVault

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m localvault", description="Run a local Azure Key Vault with a managed-identity endpoint.")
    parser.add_argument("--state-dir", required=True, help="folder for the CA, keys, database, connection.json and env.sh")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--advertised-host", type=advertised_host, metavar="NAME",
                        help="host name or address clients reach the vault by, written into connection.json and env.sh and added to "
                             "the server certificate (default: localhost for a loopback or wildcard --host, else --host)")
    parser.add_argument("--vault-port", type=int, default=8443, help="HTTPS port of the vault; 0 picks a free one (default 8443)")
    parser.add_argument("--imds-port", type=int, default=8444, help="HTTP port of the managed-identity endpoint; 0 picks a free one (default 8444)")
    parser.add_argument("--ephemeral", action="store_true", help="keep secrets and certificates in memory only")
    parser.add_argument("--config", help="JSON configuration file (identities, permissions, delays, extra certificate names)")
    parser.add_argument("--tools-dir", metavar="DIR", help="folder env.sh puts in front of PATH (make vault: the project's .venv/bin)")
    parser.add_argument("--collections-path", metavar="DIR",
                        help="ANSIBLE_COLLECTIONS_PATH exported by env.sh (make vault: where the Makefile installs the collection)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def advertised_host(text):
    """A DNS name or an IP address (IPv6 with or without brackets)."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if len(text) <= 253 and all(_DNS_LABEL.match(label) for label in text.rstrip(".").split(".")):
        return text.rstrip(".").lower()
    raise argparse.ArgumentTypeError(f"{text!r} is neither a DNS name nor an IP address")


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        configuration = vault_config.load(arguments.config)
    except vault_config.ConfigError as exc:
        sys.stderr.write(f"localvault: {exc}\n")
        return 2
    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    vault = LocalVault(configuration, arguments.state_dir, host=arguments.host, vault_port=arguments.vault_port,
                       imds_port=arguments.imds_port, ephemeral=arguments.ephemeral, advertised_host=arguments.advertised_host,
                       tools_dir=arguments.tools_dir, collections_path=arguments.collections_path)
    try:
        connection = vault.start()
    except OSError as exc:
        sys.stderr.write(f"localvault: cannot start: {exc}\n")
        return 1
    sys.stdout.write(
        f"localvault ready\n  vault URL:  {connection['vault_url']}\n  IMDS:       {connection['imds_url']}\n"
        f"  CA bundle:  {connection['ca_bundle']}\n  controls:   {connection['controls_url']}\n"
        f"  client environment (also in {vault.state_dir}/{ENV_FILE}):\n"
        + "".join(f"    {line}\n" for line in vault.environment_script()))
    sys.stdout.flush()
    stop_requested.wait()
    vault.stop()
    sys.stdout.write("localvault stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
