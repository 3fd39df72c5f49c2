"""A requests transport adapter that answers from a WSGI app in this process (werkzeug's test
client), so the demo seed and tests pull from the stand-in without a server or a port."""
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from werkzeug.test import Client


class WSGIAdapter(BaseAdapter):
    def __init__(self, app):
        super().__init__()
        self.client = Client(app)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        answer = self.client.open(parts.path, method=request.method, query_string=parts.query,
                                  headers=dict(request.headers), data=request.body or b"",
                                  base_url=f"{parts.scheme}://{parts.netloc}")
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers.items())
        response._content = answer.get_data()
        response.url, response.request, response.reason = request.url, request, answer.status.split(" ", 1)[-1]
        response.encoding = answer.mimetype_params.get("charset")
        return response

    def close(self):
        pass


def session_for(app, base_url):
    """A requests.Session whose requests to `base_url` are answered by `app` in-process."""
    session = requests.Session()
    session.mount(base_url.rstrip("/") + "/", WSGIAdapter(app))
    return session
