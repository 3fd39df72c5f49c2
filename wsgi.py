"""The WSGI entry point (`gunicorn wsgi:app`).

`gc.freeze()` once the app is built: the ~310,000 objects made while it starts (modules,
templates, catalogues, mappers) move to the collector's permanent generation, so its full
passes stop walking them. Without it, at 5,000 people one calibration request in ten paid a
~160 ms full collection on top of its ~70 ms (docs/scaling.md, issue 10)."""
import gc

from kpiapp.app import create_app

app = create_app()
gc.freeze()
