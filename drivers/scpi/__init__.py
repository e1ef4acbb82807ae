"""SCPI instruments over VISA (pyvisa / pyvisa-py).

`base` holds the conversation rules (timeouts and resync, `*OPC?` and the
error queue, IEEE 488.2 blocks), `properties` the declarative settings; each
instrument module reads like its programming guide.
"""
