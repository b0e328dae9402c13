"""The same model behind a plain FastAPI endpoint: the load test's baseline for what BentoML adds or costs.

    uvicorn --factory src.production.plain_fastapi:create_app --host 127.0.0.1 --port 3002

One process, no batching, no second service: the request is validated (the same rules and messages as the
BentoML service) and the model is called in FastAPI's thread pool. It loads the model from the BentoML store
(ISSUE_CLASSIFIER_MODEL, default <model_name>:latest), so both servers answer with the very same artifact.
"""

import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from src.production import bento_store  # noqa: F401  (points BENTOML_HOME at the project store)
from src.production.issue_request import InvalidRequest, validate_issue
from src.production.predict import predict_issues
from src.production.serving_config import load_serving_config


def create_app() -> FastAPI:
    import bentoml

    config = load_serving_config()
    bento_model = bentoml.models.get(config.model_tag())
    model = bentoml.mlflow.load_model(bento_model)
    version = bento_model.info.labels.get("registry_version", "unknown")
    app = FastAPI(title="issue classifier (plain FastAPI baseline)")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/classify")
    async def classify(request: Request):
        try:
            payload = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return JSONResponse({"error": f"malformed JSON: {error}"}, status_code=400)
        try:
            issue = validate_issue(payload, config.max_text_bytes)
        except InvalidRequest as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        [result] = await run_in_threadpool(predict_issues, model, [issue], version)
        return result

    return app
