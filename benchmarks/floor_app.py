"""The framework floor: a trivial Flask route, served like the API (`invoke bench`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/floor")
def floor():
    return {"status": "OK"}
