"""Where a double of a server the agents' containers reach listens: an address of this machine
other than the loopback (`check` reports a loopback base_url, which inside a container is the
container itself). The double binds that one address only: nothing listens beyond this machine's
own interfaces, and nothing is sent anywhere."""

from __future__ import annotations

import array
import fcntl
import functools
import ipaddress
import socket
import struct

_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


@functools.cache
def host_address() -> str:
    """The address the kernel would send from (no packet leaves), else any interface's IPv4 one."""
    found = [_routed(), *_interfaces()]
    usable = [a for a in found if a and not ipaddress.ip_address(a).is_loopback]
    if not usable:
        raise RuntimeError(
            "this machine has no IPv4 address but the loopback; the model-server doubles need one "
            "(the Docker engine's bridge, which tests/support/with-engine.sh starts, gives one)"
        )
    return usable[0]


def _routed() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1; a UDP connect only picks the route
        except OSError:
            return ""
        return str(probe.getsockname()[0])


def _interfaces() -> list[str]:
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        for _, name in socket.if_nameindex():
            request = array.array("B", struct.pack("256s", name.encode()[:15]))
            try:
                fcntl.ioctl(handle.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on it
            found.append(socket.inet_ntoa(request.tobytes()[20:24]))
    return found
