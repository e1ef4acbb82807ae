"""The framed serial link to the pulse-generator firmware (protocol v1, docs/firmware-link.md).

`cobs` and `frame` are the wire codec shared with the simulator; `messages`
holds one frozen dataclass per message type. `link` is the host end (port,
sequence numbers, retries, de-duplication, heartbeats) and `time_map` maps
firmware time onto the host clock.
"""
