"""A Flask app and a Django project, each serving the same page with vendor embed code and setting a
session cookie, for the tests of WSGI (a2wsgi) and Django ASGI apps behind gatekeeper."""

from __future__ import annotations

from typing import Any

from support.origin import EMBEDS

PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1>" + EMBEDS + "</body></html>\n"
)


def flask_app() -> Any:
    from flask import Flask, Response, request, stream_with_context

    app = Flask("gatekeeper_test_site")

    @app.get("/")
    def home() -> Response:
        response = Response(PAGE.format(title="Flask site"), mimetype="text/html")
        response.set_cookie("sid", "flask-session")
        response.set_cookie("_ga", "GA1.2.3")
        return response

    @app.post("/echo")
    def echo() -> dict[str, Any]:
        return {"bytes": len(request.get_data()), "form": request.form.to_dict()}

    @app.get("/stream")
    def stream() -> Response:
        def parts():  # type: ignore[no-untyped-def]
            for i in range(100):
                yield f"line {i}\n"

        return Response(stream_with_context(parts()), mimetype="text/plain")

    return app


def _django_settings() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-secret-0123456789",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            DATABASES={},
        )
        django.setup()


def _django_home(request: Any) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(PAGE.format(title="Django site"), content_type="text/html; charset=utf-8")
    response.set_cookie("sid", "django-session")
    response.set_cookie("_ga", "GA1.2.3")
    return response


def __getattr__(name: str) -> Any:  # ROOT_URLCONF's urlpatterns, made once Django is configured
    if name == "urlpatterns":
        from django.urls import path

        return [path("", _django_home)]
    raise AttributeError(name)


def django_wsgi() -> Any:
    _django_settings()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def django_asgi() -> Any:
    _django_settings()
    from django.core.asgi import get_asgi_application

    return get_asgi_application()
