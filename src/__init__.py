"""AI-Mastery-2026: the from-scratch library, importable as `src`."""
