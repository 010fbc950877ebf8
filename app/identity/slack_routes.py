"""`POST /slack/interactions`: Slack's button clicks, verified by signature."""

from flask import Blueprint, jsonify, request

from app.identity.slack import apply_click, verified_click

bp = Blueprint("slack", __name__)


@bp.post("/slack/interactions")
def interactions():
    # The signature covers the raw body: read it before anything parses the form.
    body = request.get_data(as_text=True)
    click = verified_click(body, request.headers)
    return jsonify(text=apply_click(click))
