"""A tiny FastAPI app: `dockyard up` detects FastAPI and runs it with uvicorn on $PORT."""

import os

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()
GREETING = os.environ.get("GREETING", "Hello from Dockyard (Python)")


@app.get("/", response_class=PlainTextResponse)
def index() -> str:
    return GREETING + "\n"


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
