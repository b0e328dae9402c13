"""Day 1: linear algebra (src.core.linear_algebra) and calculus (src.core.math_operations) from scratch."""
