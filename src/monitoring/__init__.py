"""Monitoring the issue classifier: is today's traffic still like the data it was trained on?

traffic.py       the two sides of the comparison as one table shape: the training reference, the service's log
replay.py        deterministic streams of traffic through the champion (what `dvc repro` monitors)
drift_report.py  Evidently: text descriptors, prediction drift, classification quality; a plain-dict summary
"""
