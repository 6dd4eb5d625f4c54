"""Provides the IRCv3 `sts` (strict transport security) policy a connection is offered."""

from __future__ import annotations

from easychat.chat.config import CoreConfig

# How long, in seconds, a client keeps the policy it read on a TLS connection
# unless the operator says otherwise. InspIRCd defaults to 5 minutes "as a
# safety precaution" while a deployment's TLS is new: a client holding a
# policy refuses plain text (and bad certificates) for its whole duration.
# Raise it (ergo's example uses a month) once TLS works for everyone.
STS_DURATION = 300


def sts_value(config: CoreConfig, secure: bool) -> str | None:
    """The `sts` capability value for a plain or TLS connection, or None for no policy.

    "Servers MUST advertise ... the `port` key on insecure connections" and
    "the `duration` key on secure connections"; a plain connection is never
    given a duration (https://ircv3.net/specs/extensions/sts).
    """
    if not config.sts_port:
        return None
    if secure:
        return f"duration={config.sts_duration}"
    return f"port={config.sts_port}"
