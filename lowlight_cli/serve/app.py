"""`create_app(settings)`: the FastAPI application of `lowlight serve`
(routes; the guards are in safety.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import BackgroundTasks, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from lowlight_cli import __version__
from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.serve.engine import Busy, Engine
from lowlight_cli.serve.jobs import VIDEO_SUFFIXES, Item, Job, JobStore
from lowlight_cli.serve.render import check_format, download_name, make_controls, preview, render
from lowlight_cli.serve.safety import Guard, HttpError
from lowlight_cli.serve.settings import ServeSettings

STATIC = Path(__file__).parent / "static"
API = "/api/v1"
CHUNK = 1 << 20
KEEPALIVE_SECONDS = 15.0
"""An idle event stream sends a comment this often, so proxies keep it open (only while a job runs)."""

Strength = Annotated[
    float, Form(ge=0.0, le=1.0, description="0 returns the input, 1 the full result (as --strength).")
]
ExposureField = Annotated[
    str | None, Form(description="auto, a target mean luma such as 0.45, or an EV offset such as +0.5ev.")
]
KeepColour = Annotated[bool, Form(description="Keep the input's colours (as --keep-colour).")]
Denoise = Annotated[
    float,
    Form(
        ge=0.0,
        le=1.0,
        description=(
            "How much of the network's noise removal to keep: 1 all, 0 the photo's own grain (as --denoise)."
        ),
    ),
]
Format = Annotated[str | None, Form(description="jpeg, png, tiff, webp or bmp; default: the input's.")]
Quality = Annotated[int | None, Form(ge=1, le=100, description="JPEG/WebP quality.")]


def create_app(
    settings: ServeSettings, engine: Engine | None = None, on_ready: Callable[[Engine], None] | None = None
) -> FastAPI:
    """The app for `settings` (already `.checked()`); the model loads and warms up in the lifespan, before the
    server takes its first request; `on_ready(engine)` is called then."""
    owned = engine is None
    engine = engine or Engine(settings)
    render_slots = asyncio.Semaphore(engine.settings.worker_count("cpu"))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        work = Path(tempfile.mkdtemp(prefix="lowlight-serve-"))
        store = JobStore(work, engine, settings.max_jobs)
        store.loop = asyncio.get_running_loop()
        app.state.store = store
        if not engine.ready:
            await asyncio.to_thread(engine.load)
        if on_ready:
            on_ready(engine)
        try:
            yield
        finally:
            store.close()
            if owned:  # an engine passed in is the caller's to close
                await asyncio.to_thread(engine.close)
            shutil.rmtree(work, ignore_errors=True)

    app = FastAPI(
        title="lowlight serve",
        version=__version__,
        lifespan=lifespan,
        description="Enhance low-light photos and videos over HTTP. Every /api/ call needs "
        "`Authorization: Bearer <token>` when the server has a token.",
    )
    app.state.engine = engine
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization"],
            allow_credentials=False,
        )
    app.add_middleware(
        Guard,
        bound_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        token=settings.token,
        max_body=settings.max_body,
    )

    @app.exception_handler(HttpError)
    async def _http_error(request: Request, exc: HttpError):
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(LowlightError)
    async def _user_error(request: Request, exc: LowlightError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid_field(request: Request, exc: RequestValidationError):
        return JSONResponse(
            {"detail": validation_message(exc.errors(), request.scope.get("route"))}, status_code=422
        )

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    def store(request: Request) -> JobStore:
        return request.app.state.store

    # --- page and health -------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        files = {
            p.name: p for p in STATIC.iterdir() if p.is_file()
        }  # a fixed set: no path ever built from input
        if name not in files:
            raise HttpError(404, "not found")
        return FileResponse(files[name], headers={"Cache-Control": "no-cache"})

    @app.get("/healthz", summary="Readiness: 200 once the model is loaded and warmed up, 503 before")
    async def healthz():
        body = {
            "ready": engine.ready,
            "version": __version__,
            "backend": engine.description,
            "weights": settings.weights,
            "workers": engine.workers,
            "queue": engine.queue_length(),
            "load_seconds": round(engine.load_seconds, 3),
        }
        return JSONResponse(body, status_code=200 if engine.ready else 503)

    @app.get(f"{API}/models", summary="Bundled weights, and which ones this server runs")
    async def models():
        from lowlight_cli.weights.registry import BUNDLED, DEFAULT_WEIGHTS

        return {
            "loaded": {
                "weights": settings.weights,
                "backend": engine.description,
                "device": engine.device_type,
                "precision": settings.precision,
                "fast": settings.fast,
                "gate": settings.gate,
            },
            "defaults": {"weights": DEFAULT_WEIGHTS},  # what `lowlight enhance` runs without --weights
            "bundled": [
                {"name": w.name, "summary": w.summary, "license": w.license, "sha256": w.sha256}
                for w in BUNDLED.values()
            ],
            "limits": {
                "max_pixels": settings.max_pixels,
                "max_body": settings.max_body,
                "max_queue": settings.max_queue,
            },
        }

    # --- one photo in, one photo out -----------------------------------------------------------------
    @app.post(
        f"{API}/enhance",
        summary="Enhance one photo (multipart field `file`); the enhanced photo comes back",
        response_class=FileResponse,
    )
    async def enhance(
        request: Request,
        file: Annotated[UploadFile, File(description="The photo.")],
        strength: Strength = 1.0,
        exposure: ExposureField = None,
        keep_colour: KeepColour = False,
        denoise: Denoise = 1.0,
        format: Format = None,
        quality: Quality = None,
    ):
        controls = make_controls(strength, exposure, keep_colour, denoise)
        fmt, quality = check_format(format, quality)
        jobs = store(request)
        job = jobs.new("photos", controls, fmt, quality)
        try:
            item = jobs.add_item(job, file.filename or "photo")
            await save_upload(file, item.upload)
            check_photo(item, settings.max_pixels)
            if item.error is not None:  # check_photo failed it: not a readable photo
                raise HttpError(400, item.error)
            out = job.folder / "result.out"

            def work():
                jobs._photo(job, item)
                if item.status == "done":
                    meta = render(item.upload, item.raw, controls, out, fmt, quality)
                    item.format = meta.format

            await asyncio.wrap_future(engine.submit(work))
            if item.status != "done":
                raise HttpError(400, item.error or f"{item.name}: {item.status}")
        except BaseException:
            jobs.delete(job)
            raise
        name = download_name(item.name, item.format, fmt)
        return FileResponse(
            out, media_type=media_type(name), filename=name, background=after(jobs.delete, job)
        )

    # --- jobs --------------------------------------------------------------------------------------------
    @app.post(
        f"{API}/jobs",
        status_code=202,
        summary="Start a job: many photos, or one video (multipart field `files`)",
    )
    async def create_job(
        request: Request,
        files: Annotated[list[UploadFile], File(description="Photos, or one video.")],
        strength: Strength = 1.0,
        exposure: ExposureField = None,
        keep_colour: KeepColour = False,
        denoise: Denoise = 1.0,
        format: Format = None,
        quality: Quality = None,
    ):
        controls = make_controls(strength, exposure, keep_colour, denoise)
        fmt, quality = check_format(format, quality)
        videos = [f for f in files if Path(f.filename or "").suffix.lower() in VIDEO_SUFFIXES]
        if videos and len(files) > 1:
            raise HttpError(400, "a job holds photos, or exactly one video")
        if videos:
            from lowlight_cli.extras import require

            require("a video job", "video")
        jobs = store(request)
        job = jobs.new("video" if videos else "photos", controls, fmt, quality)
        try:
            for upload in files:
                item = jobs.add_item(job, upload.filename or "photo")
                await save_upload(upload, item.upload)
                if not videos:
                    check_photo(item, settings.max_pixels)
            jobs.start(job)
        except BaseException:
            jobs.delete(job)
            raise
        return job.public()

    def get_job(request: Request, job_id: str) -> Job:
        job = store(request).jobs.get(job_id)
        if job is None:
            raise HttpError(
                404, f"no job {job_id!r} (finished jobs are kept until {settings.max_jobs} newer ones exist)"
            )
        return job

    def get_item(job: Job, index: int, need_done: bool = True) -> Item:
        if not 1 <= index <= len(job.items):
            raise HttpError(404, f"job {job.id} has items 1-{len(job.items)}")
        item = job.items[index - 1]
        if need_done and item.status != "done":
            raise HttpError(409, f"{item.name}: {item.status}" + (f" ({item.error})" if item.error else ""))
        return item

    @app.get(f"{API}/jobs/{{job_id}}", summary="A job's state and its items")
    async def job_state(request: Request, job_id: str):
        return get_job(request, job_id).public()

    @app.delete(
        f"{API}/jobs/{{job_id}}",
        summary="Cancel a running job (between tiles or frames); delete a finished one",
    )
    async def job_delete(request: Request, job_id: str):
        job = get_job(request, job_id)
        if job.finished:
            store(request).delete(job)
            return {"id": job.id, "status": "deleted"}
        store(request).cancel(job)
        return {"id": job.id, "status": "cancelling"}

    @app.get(
        f"{API}/jobs/{{job_id}}/events",
        summary="Progress as Server-Sent Events (one JSON object per event)",
        response_class=StreamingResponse,
    )
    async def job_events(request: Request, job_id: str):
        job = get_job(request, job_id)
        jobs = store(request)

        async def stream():
            # count the events before taking the snapshot: one emitted in between is sent again (the page
            # applies each event idempotently) rather than lost
            seen = len(job.events)
            yield f"data: {json.dumps({'type': 'snapshot', 'job': job.public()})}\n\n"
            while True:
                changed = jobs.changed(job)
                fresh = job.events[seen:]
                seen += len(fresh)
                for event in fresh:
                    yield f"data: {json.dumps(event)}\n\n"
                if job.finished:
                    yield f"data: {json.dumps({'type': 'end', 'job': job.public()})}\n\n"
                    return
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get(
        f"{API}/jobs/{{job_id}}/items/{{index}}/result",
        summary="One result, with these controls (no new inference)",
        response_class=FileResponse,
    )
    async def item_result(
        request: Request,
        job_id: str,
        index: int,
        strength: float | None = Query(None, ge=0, le=1),
        exposure: str | None = None,
        keep_colour: bool | None = None,
        format: str | None = None,
        quality: int | None = Query(None, ge=1, le=100),
    ):
        job = get_job(request, job_id)
        item = get_item(job, index)
        controls, fmt, quality = job_settings(job, strength, exposure, keep_colour, format, quality)
        if job.kind == "video":
            name = download_name(item.name, "", None).rsplit(".", 1)[0] + item.video_out.suffix
            return FileResponse(item.video_out, filename=name, media_type="video/mp4")
        out = Path(tempfile.mkstemp(dir=job.folder, suffix=".out")[1])
        async with render_slots:
            meta = await asyncio.to_thread(render, item.upload, item.raw, controls, out, fmt, quality)
        name = download_name(item.name, meta.format, fmt)
        return FileResponse(
            out, media_type=media_type(name), filename=name, background=after(out.unlink, missing_ok=True)
        )

    @app.get(f"{API}/jobs/{{job_id}}/items/{{index}}/{{picture}}.png", include_in_schema=False)
    async def item_picture(
        request: Request, job_id: str, index: int, picture: str, keep_colour: bool = False
    ):
        """The page's 8-bit pictures: `source` (orientation applied) and `base` (the network's result)."""
        job = get_job(request, job_id)
        if picture not in ("source", "base") or job.kind != "photos":
            raise HttpError(404, "not found")
        item = get_item(job, index)
        out = Path(tempfile.mkstemp(dir=job.folder, suffix=".png")[1])
        async with render_slots:
            await asyncio.to_thread(
                preview, item.upload, None if picture == "source" else item.raw, out, keep_colour
            )
        return FileResponse(out, media_type="image/png", background=after(out.unlink, missing_ok=True))

    @app.get(
        f"{API}/jobs/{{job_id}}/zip",
        summary="Every finished result of a job as one ZIP, with these controls",
        response_class=FileResponse,
    )
    async def job_zip(
        request: Request,
        job_id: str,
        strength: float | None = Query(None, ge=0, le=1),
        exposure: str | None = None,
        keep_colour: bool | None = None,
        format: str | None = None,
        quality: int | None = Query(None, ge=1, le=100),
    ):
        job = get_job(request, job_id)
        controls, fmt, quality = job_settings(job, strength, exposure, keep_colour, format, quality)
        done = [i for i in job.items if i.status == "done"]
        if not done:
            raise HttpError(409, "no finished results in this job yet")
        out = Path(tempfile.mkstemp(dir=job.folder, suffix=".zip")[1])

        def build() -> None:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
                for item in done:
                    if job.kind == "video":
                        stem = download_name(item.name, "", None).rsplit(".", 1)[0]
                        archive.write(item.video_out, f"{item.index:03d}_{stem}{item.video_out.suffix}")
                        continue
                    tmp = job.folder / f"zip-{item.index:03d}.tmp"
                    meta = render(item.upload, item.raw, controls, tmp, fmt, quality)
                    archive.write(tmp, f"{item.index:03d}_{download_name(item.name, meta.format, fmt)}")
                    tmp.unlink()

        async with render_slots:
            await asyncio.to_thread(build)
        return FileResponse(
            out,
            media_type="application/zip",
            filename=f"lowlight_{job.id[:8]}.zip",
            background=after(out.unlink, missing_ok=True),
        )

    return app


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_PLACES = {"body": "form field", "query": "query parameter", "path": "path parameter", "header": "header"}


def field_range(route, name: str) -> str | None:
    """`between 0 and 1`, `>= 1`, ...: the declared bounds of parameter `name` of `route`, if any."""
    dependant = getattr(route, "dependant", None)
    fields = [
        *getattr(dependant, "query_params", []),
        *getattr(dependant, "body_params", []),
        *getattr(dependant, "path_params", []),
    ]
    bounds: dict[str, float] = {}
    for field in fields:
        if name in (field.name, field.alias):
            for rule in field.field_info.metadata:
                bounds |= {k: getattr(rule, k) for k in _BOUNDS if getattr(rule, k, None) is not None}
    if "ge" in bounds and "le" in bounds:
        return f"between {bounds['ge']:g} and {bounds['le']:g}"
    parts = [f"{_BOUNDS[k]} {v:g}" for k, v in bounds.items()]
    return " and ".join(parts) or None


def validation_message(errors, route=None) -> str:
    """FastAPI's validation errors as one line naming each field, what it got and what it takes, e.g.
    `strength 5 is out of range: must be between 0 and 1 (form field)`; never pydantic's JSON list."""
    lines = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        name = loc[-1] if len(loc) > 1 else (loc[0] if loc else "request")
        place = _PLACES.get(loc[0], loc[0]) if len(loc) > 1 else "request"
        kind = error.get("type", "")
        given = error.get("input")
        if kind == "missing":
            lines.append(f"{name}: missing (a required {place})")
        elif kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
            rule = field_range(route, name) or " ".join(
                f"{_BOUNDS[k]} {v}" for k, v in (error.get("ctx") or {}).items() if k in _BOUNDS
            )
            lines.append(f"{name} {given} is out of range: must be {rule} ({place})")
        else:
            why = str(error.get("msg", kind)).splitlines()[0]
            why = why[:1].lower() + why[1:]
            got = f" {given!r}" if isinstance(given, (str, int, float)) else ""
            lines.append(f"{name}{got}: {why} ({place})")
    return "; ".join(lines) or "invalid request"


def job_settings(job: Job, strength, exposure, keep_colour, fmt, quality):
    """The job's controls and format, each overridden by the query value when one is given."""
    base = job.public()["controls"]
    controls = make_controls(
        base["strength"] if strength is None else strength,
        base["exposure"] if exposure is None else exposure,
        base["keep_colour"] if keep_colour is None else keep_colour,
        base["denoise"],
    )
    fmt, quality = check_format(
        fmt if fmt is not None else job.fmt, quality if quality is not None else job.quality
    )
    return controls, fmt, quality


async def save_upload(upload: UploadFile, path: Path) -> None:
    """Copy an upload to its server-made name, chunk by chunk (never whole in memory)."""
    with open(path, "wb") as f:
        while chunk := await upload.read(CHUNK):
            f.write(chunk)
    await upload.close()


def check_photo(item: Item, max_pixels: int) -> None:
    """Header check before any decode: too many pixels is a 413; an unreadable file fails the item."""
    from lowlight_cli.io.images import peek_size

    try:
        item.width, item.height = peek_size(item.upload)
    except FileError as exc:
        item.status, item.error = "failed", f"{item.name}: {exc.reason}"
        return
    if item.width * item.height > max_pixels:
        raise HttpError(
            413,
            f"{item.name}: {item.width}x{item.height} = {item.width * item.height / 1e6:.3g} MP is over "
            f"this server's limit of {max_pixels / 1e6:.3g} MP (--max-pixels)",
        )


def after(fn, *args, **kwargs) -> BackgroundTasks:
    """Run `fn` once the response has been sent (removing its temporary file)."""
    tasks = BackgroundTasks()
    tasks.add_task(fn, *args, **kwargs)
    return tasks


def media_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
