"""Embedded datasets: git-tracked raw files under data/raw/, each verified against a checksum manifest."""

from src.data.checksums import DataIntegrityError, verified_path

__all__ = ["DataIntegrityError", "verified_path"]
