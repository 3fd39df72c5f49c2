"""The translated words on charts; kpiapp.charts stays free of Flask and takes them as data."""

from flask_babel import gettext as _


def chart_labels():
    return {
        "points": _("Points"),
        "weight": _("weight %(weight)s%%"),
        "share": _("Share of graded people (%)"),
    }
