"""Provides the protocol's size limits, each with the reason for its value."""

from __future__ import annotations

# Modern IRC: a message without tags is at most 512 bytes including the CRLF.
# Every server and client in the field agrees on this value.
MAX_LINE_BYTES = 512

# IRCv3 message-tags: the tag section (with its leading '@' and trailing space)
# is at most 8191 bytes, on top of the 512 bytes of the rest of the message.
MAX_TAGS_BYTES = 8191

# IRCv3 message-tags: "Clients MUST NOT send messages with tag data exceeding
# 4094 bytes" (tag data: the bytes between '@' and the space), and "Servers MUST
# reply with the ERR_INPUTTOOLONG (417) error numeric if a client sends a
# message with more tag data than the allowed limit". The other 4094 bytes of
# MAX_TAGS_BYTES are the server's to add.
MAX_CLIENT_TAG_DATA = 4094

# The framing layer drops anything longer than both together before parsing.
MAX_FRAME_BYTES = MAX_TAGS_BYTES + MAX_LINE_BYTES

# Modern IRC: "a maximum of 15 parameters" per message.
MAX_PARAMS = 15
