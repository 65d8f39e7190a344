"""The project's URLs plus one that fails, to show the 500 page."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *project_urlpatterns]
