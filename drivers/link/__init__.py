"""The framed serial link to the pulse-generator firmware (protocol v1).

`cobs` and `frame` are the wire codec shared with the simulator; `messages`
holds one frozen dataclass per message type.
"""
