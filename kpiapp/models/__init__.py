"""All models, imported here so Alembic and the app see one metadata."""
from kpiapp.models.appraisal import (
    Acknowledgement, Appeal, ChangeRequest, Cycle, CycleParticipant, CycleTemplate, ItemRiskBasis,
    KpiTemplate, KpiTemplateItem, Notification, PaceAlert, ReviewDraft, Scorecard, ScorecardEvent,
    ScorecardItem, ScorecardItemStore, ScorecardItemVersion, ScorecardTotal,
)
from kpiapp.models.bonus import BonusLine
from kpiapp.models.contracts import (
    ClientInvite, Contract, ContractClause, ContractDocument, ContractMember, ContractOverride, ContractPeriod,
    ContractReport, ContractReportEvent, ContractReportRevision, ContractStatus, ContractVersion,
    ContractVersionStore,
)
from kpiapp.models.audit import AuditEvent, AuditRefusal
from kpiapp.models.connectors import ConnectionPull, ConnectionStatus, PullStatus, StoreConnection
from kpiapp.models.dashboards import DashboardPublicPanel, DataTouch, DataVersion
from kpiapp.models.disputes import Dispute, DisputeStore
from kpiapp.models.jobs import JobRun, JobStatus
from kpiapp.models.objectives import (
    CheckIn, Comment, CommentMention, CommentTarget, Confidence, KeyResult, KrKind, Milestone, Objective,
    ObjectiveLevel, ObjectiveStatus, PeriodKind, ReviewDecision, Task, TaskCheckItem, WeeklyReview,
)
from kpiapp.models.metrics import (FactDay, FactMonth, FactMonthStale, FactPick, FactPickDay, FactStage, FxRate,
                                   ImportFile, ImportKind, ImportRecord, ImportStatus, MetricDefinition, MetricFact)
from kpiapp.models.reminders import ReminderKind, ReminderLog
from kpiapp.models.reports import BatchStatus, IssuedReport, ReportBatch, ReportKind
from kpiapp.models.org import ClientCompany, Department, Platform, Position, Store, StoreOwner
from kpiapp.models.users import Role, User
from kpiapp.models.notifications import (Channel, DeliveryStatus, Digest, ImChannel, ImMode, NotificationDelivery,
                                         NotificationPreference)

__all__ = [
    "Acknowledgement", "Appeal", "ChangeRequest", "Cycle", "CycleParticipant", "CycleTemplate", "KpiTemplate",
    "KpiTemplateItem", "Notification", "Scorecard", "ScorecardEvent", "ScorecardItem",
    "ScorecardItemVersion", "ScorecardItemStore", "ScorecardTotal", "ItemRiskBasis",
    "ReviewDraft", "PaceAlert",
    "AuditEvent", "AuditRefusal", "BonusLine", "DashboardPublicPanel", "DataTouch", "DataVersion",
    "FactDay", "FactMonth", "FactMonthStale", "FactPick", "FactPickDay", "FactStage", "FxRate", "ImportFile",
    "ImportKind",
    "ImportRecord", "ImportStatus",
    "MetricDefinition", "MetricFact", "ClientCompany", "Department", "Platform", "Position", "Role", "Store",
    "StoreOwner", "User",
    "BatchStatus", "IssuedReport", "ReportBatch", "ReportKind", "JobRun", "JobStatus",
    "Dispute", "DisputeStore",
    "ClientInvite", "Contract", "ContractClause", "ContractDocument", "ContractMember", "ContractOverride",
    "ContractPeriod", "ContractReport", "ContractReportEvent", "ContractReportRevision", "ContractStatus",
    "ContractVersion", "ContractVersionStore",
    "CheckIn", "Comment", "CommentMention", "CommentTarget", "Confidence", "KeyResult", "KrKind", "Milestone",
    "Objective", "ObjectiveLevel", "ObjectiveStatus", "PeriodKind", "ReviewDecision", "Task", "TaskCheckItem",
    "WeeklyReview",
    "ConnectionPull", "ConnectionStatus", "PullStatus", "StoreConnection",
    "WeeklyReview", "ReminderKind", "ReminderLog",
    "Channel", "DeliveryStatus", "Digest", "ImChannel", "ImMode", "NotificationDelivery", "NotificationPreference",
]
