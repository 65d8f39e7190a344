"""Swagger UI and ReDoc at /api/v1/docs/ and /api/v1/redoc/, from the site's own static files, under the
Content-Security-Policy: the site's policy as it is, ReDoc's page allowing its blob: worker and nothing more."""

import pytest

from tests.test_content_security_policy import POLICY, inline_code, policy_of

pytestmark = pytest.mark.django_db


def test_swagger_ui_is_served_from_the_sites_files_without_inline_code(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert policy_of(response["Content-Security-Policy"]) == POLICY
    assert inline_code(html) == []
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"></script>' in html
    assert '<script src="/api/v1/docs/?script="></script>' in html
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert '  url: "/api/v1/schema/",' in script.content.decode()


def test_redoc_is_served_from_the_sites_files_with_only_its_worker_allowed(client):
    response = client.get("/api/v1/redoc/")
    assert response.status_code == 200
    html = response.content.decode()
    policy = policy_of(response["Content-Security-Policy"])
    (nonce,) = [source for source in policy["style-src"] if source.startswith("'nonce-")]
    assert policy == {
        **POLICY,
        "style-src": {
            "'self'",
            nonce,
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
            "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        },
        "worker-src": {"blob:"},
        "img-src": {"'self'", "data:", "https://cdn.redoc.ly/redoc/logo-mini.svg"},
    }
    assert inline_code(html) == []
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"></script>' in html
    assert f'data-spec-url="/api/v1/schema/" data-nonce="{nonce[7:-1]}"' in html
    assert '<script src="/static/config/redoc-init.js"></script>' in html
    # A fresh nonce each time.
    assert nonce not in client.get("/api/v1/redoc/")["Content-Security-Policy"]
    assert "googleapis" not in html


def test_the_allowances_stay_on_the_redoc_page(client):
    for path in ("/", "/api/v1/docs/", "/api/v1/schema/", "/verify/"):
        assert policy_of(client.get(path)["Content-Security-Policy"]) == POLICY, path
