"""The Jinja side of kpiapp.presentation: filters and the status enums templates compare with."""
from kpiapp import presentation
from kpiapp.web.pages import ui_lang


def register_filters(app):
    """The Jinja side of kpiapp.presentation, in the language being rendered (a PDF forces
    its own), so pages and signed reports format through the same functions."""
    app.jinja_env.filters.update(
        label=lambda member: presentation.label(member, ui_lang()),
        event_label=lambda action: presentation.event_label(action, ui_lang()),
        unit_label=lambda unit: presentation.unit_label(unit, ui_lang()),
        platform_label=lambda platform: presentation.platform_label(platform, ui_lang()),
        field_label=lambda field: presentation.field_label(field, ui_lang()),
        number=lambda value, places=2: presentation.number(value, ui_lang(), places),
        percent=lambda value, places=2: presentation.percent(value, ui_lang(), places),
        money=lambda value: presentation.money(value, ui_lang()),
    )
    # templates compare statuses with members (cycle.status == CycleStatus.closed), never literals
    from kpiapp.appraisal.appeal_flow import AppealStep
    from kpiapp.appraisal.dispute_flow import DisputeState, DisputeStep
    from kpiapp.appraisal.workflow import Action
    from kpiapp.models.appraisal import AppealState, ChangeStatus, CycleStatus, ItemKind, ScorecardState
    from kpiapp.models.jobs import JobStatus
    from kpiapp.models.metrics import ImportKind, ImportStatus
    from kpiapp.models.reports import BatchStatus, ReportKind
    from kpiapp.contracts.invites import InviteStatus
    from kpiapp.contracts.report_flow import ReportState
    from kpiapp.models.objectives import KrKind, ObjectiveStatus
    from kpiapp.models.notifications import Channel, DeliveryStatus, Digest, ImMode

    for enum in (ScorecardState, CycleStatus, ChangeStatus, ItemKind, ImportStatus, ImportKind,
                 BatchStatus, ReportKind, JobStatus, AppealState, AppealStep, Action, DisputeState,
                 DisputeStep, KrKind, ObjectiveStatus, InviteStatus, ReportState, Channel, DeliveryStatus, Digest,
                 ImMode):
        app.jinja_env.globals[enum.__name__] = enum
