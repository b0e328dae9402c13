"""Production: the capstone's champion served by BentoML (see issue_classifier_api.py) and load-tested.

Modules:
    serving_config.py        the `serving` config section, typed (service, package stage, load test)
    issue_request.py         request validation: what a well-formed issue is, and the message when it isn't
    http_guards.py           ASGI middlewares: bearer API key, request body size limit
    issue_classifier_api.py  the BentoML service (validation front + batched model service)
    bento_store.py           import the MLflow champion into the BentoML store and build the Bento
    plain_fastapi.py         the same model behind a plain FastAPI endpoint (the load test's baseline)
    loadtest.py              `make loadtest`: throughput and latency at 1/8/32 clients, batched, unbatched, FastAPI
"""
