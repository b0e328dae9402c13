"""Day 9: case studies on real data (churn, card fraud) with the money made explicit, and a capacity model
that turns the project's own measured figures into system-design numbers (RAG at scale, model serving, a
two-tower recommender).

    from src.case_studies import data, churn, fraud, capacity
"""
