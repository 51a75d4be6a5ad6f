"""`lowlight serve`: a local web page and HTTP API over the Enhancer, safe by default.

- settings.py: `ServeSettings` (host, port, weights, limits, token, CORS origins) and its checks;
- safety.py: the token, the Host-header check (DNS rebinding), the body limit, security headers;
- engine.py: the model (loaded and warmed once), the worker pool with queue positions;
- jobs.py: batches and videos as jobs: progress events per tile/frame, cancel, ZIP;
- render.py: the user controls applied to a stored network result, encoded by lowlight_cli.io.images;
- app.py: `create_app(settings)`, the FastAPI routes;
- static/: the page (plain HTML/JS/CSS, no build step).
"""
