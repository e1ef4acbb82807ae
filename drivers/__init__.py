"""How to talk to hardware: role interfaces, the firmware link and SCPI instruments.

Nothing here knows of sessions or protocols: drivers take plain pulse
parameters and return measurements and waveforms.
"""
