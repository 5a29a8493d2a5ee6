"""`make bench`: performance of the vozo client as ratios against baselines measured in the same run.

Build-time code, never shipped. Run `python -m bench --help`.
"""
