"""Production: the capstone's champion served by BentoML (see issue_classifier_api.py) and load-tested.

Modules:
    serving_config.py        the `serving` config section, typed (service, package stage, load test)
    issue_request.py         request validation: what a well-formed issue is, and the message when it isn't
    http_guards.py           ASGI middlewares: bearer API key, request body size limit
    issue_classifier_api.py  the BentoML service (validation front + batched model service)
    bento_store.py           import the MLflow champion into the BentoML store and build the Bento
    plain_fastapi.py         the same model behind a plain FastAPI endpoint (the load test's baseline)
    loadtest.py              `make loadtest`: throughput and latency at 1/8/32 clients, batched, unbatched, FastAPI

Day 8 (production patterns, measured by the day08_production stage):
    ab_testing.py            bandits for A/B tests: Thompson sampling, epsilon-greedy, UCB1, KL-UCB; simulation, replay
    rollout.py               canary with automatic rollback, blue-green alias switch
    model_replay.py          champion vs challenger outcomes on the issues (out-of-fold)
    issue_features.py        per-repository features over time (label latency), the entity frame
    feature_store.py         offline store with a point-in-time join, online store, push (from scratch)
    feast_store.py           the same view in Feast, and the comparison
    leakage.py               CV with point-in-time vs leaking vs no repository features
    circuit_breaker.py       closed / open / half-open breaker for outbound calls
    breaker_drill.py         the breaker against pybreaker and against a fault-injecting local server
    fault_server.py          that server (127.0.0.1, ok / error / slow)
    rate_limit.py            token bucket per key (429 + Retry-After)
"""
