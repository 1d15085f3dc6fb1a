# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IMDS address of one simulated VM: relays connections to 169.254.169.254:80 to the local vault's IMDS port.

Usage: ``python imds_relay.py LISTEN_ADDRESS:PORT TARGET_ADDRESS:PORT``

It runs inside the VM's network namespace, so its connections to the vault leave from the VM's own
address; that is how the vault tells the VMs apart, where the real IMDS knows the VM by the link a
request arrives on. Bytes are passed on unchanged in both directions. It prints ``ready`` once it
listens and stops on SIGTERM or SIGINT.
"""

import asyncio
import signal
import sys

CHUNK = 65536


def parse_address(text):
    host, _separator, port = text.rpartition(":")
    return host.strip("[]"), int(port)


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            # A half-close passes on, so a client that ends its request with EOF still gets the answer.
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def relay(client_reader, client_writer, target):
    try:
        vault_reader, vault_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(pump(client_reader, vault_writer), pump(vault_reader, client_writer))
    finally:
        for writer in (client_writer, vault_writer):
            writer.close()


async def serve(listen, target):
    server = await asyncio.start_server(lambda reader, writer: relay(reader, writer, target), *listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    async with server:
        await stop.wait()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    asyncio.run(serve(parse_address(argv[0]), parse_address(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
