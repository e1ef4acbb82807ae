"""A stand-in for the bench: generator firmware, SCPI function generator and
oscilloscope, tissue/generator/measurement model, ECG and fault injection.

Everything is reached through the real transports (a pseudo-terminal or TCP
for the firmware link, SCPI over TCP on 127.0.0.1), so production drivers run
unchanged against it. Imports only the wire codec from drivers/.
"""
