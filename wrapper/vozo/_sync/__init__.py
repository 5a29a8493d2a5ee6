"""The client and the job resource base: _async is the source, _sync is derived from it by scripts/unasync.py."""
