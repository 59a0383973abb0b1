"""Helpers for the reliability tests: a build driver for child processes, the bad-file corpus.

`driver` runs the real `build_index` (FAISS + SQLite) with the fake encoder in a child
process that the tests can SIGKILL; `corpus` writes the hostile-file corpus into a tmp
folder at test time (nothing large is committed).
"""
