"""Readers of published task decompositions (分解方案)."""
