"""The ceiling for bench/api_load.py: a bare Flask endpoint served the same way as ours."""
from flask import Flask, jsonify

app = Flask(__name__)
PAYLOAD = {"code": "PA-2026-000001", "status": "new", "status_label": "Mới tiếp nhận",
           "description": "Đèn đường hỏng", "lat": 21.1861, "lon": 106.0763}


@app.get("/api/v1/reports/<code>")
def report(code):
    return jsonify(PAYLOAD)
