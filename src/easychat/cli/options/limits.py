"""Provides the server's abuse and load limit settings (flood control, per-IP limits)."""

from __future__ import annotations

import ipaddress

from easychat.chat import config as defaults
from easychat.cli.settings import Option, non_negative_float, non_negative_int


def network(text: str) -> str:
    """An IP address or CIDR network, written as a network: `192.0.2.7` is `192.0.2.7/32`."""
    return str(ipaddress.ip_network(text.strip(), strict=False))


# Each option's dest must be a CoreConfig field: `easychat serve` passes them
# straight to the chat core. A value of 0 turns that limit off. Why each
# default: see the constants in easychat/chat/config.py.
LIMIT_OPTIONS: tuple[Option, ...] = (
    Option(
        "flood-burst",
        non_negative_int,
        defaults.FLOOD_BURST,
        "lines a client may send at once before flood control slows it (0: flood control off)",
    ),
    Option(
        "flood-rate",
        non_negative_float,
        defaults.FLOOD_RATE,
        "lines a second a client may send after its burst (0: flood control off)",
    ),
    Option(
        "flood-paste",
        non_negative_int,
        defaults.FLOOD_PASTE,
        "chat lines an idle client may paste at once (0: no more than the burst)",
    ),
    Option(
        "flood-queue",
        non_negative_int,
        defaults.FLOOD_QUEUE,
        "lines over the rate held and sent later; more are refused (0: refuse at once)",
    ),
    Option(
        "flood-excess",
        non_negative_int,
        defaults.FLOOD_EXCESS,
        "refused lines before a client is disconnected for Excess Flood (0: never)",
    ),
    Option(
        "max-clients-per-ip",
        non_negative_int,
        defaults.MAX_CLIENTS_PER_IP,
        "connections from one IP address at once (0: no limit)",
    ),
    Option(
        "connects-per-ip",
        non_negative_int,
        defaults.CONNECTS_PER_IP,
        "new connections from one IP address per minute (0: no limit)",
    ),
    Option(
        "registration-failures-per-ip",
        non_negative_int,
        defaults.REGISTRATION_FAILURES_PER_IP,
        "failed NICK/USER/PASS or registration timeouts from one IP address in 10 minutes"
        " before it is refused (0: no limit)",
    ),
)

# Not in LIMIT_OPTIONS, whose every value 0 turns a limit off: who the
# per-IP limits spare. Its dest is the CoreConfig field too.
EXEMPT_OPTION = Option(
    "limits-exempt",
    network,
    defaults.LIMITS_EXEMPT,
    "addresses or CIDR networks the per-IP limits do not apply to, comma-separated or"
    " repeated (an empty value exempts nothing; flood control still applies)",
    repeat=True,
)
