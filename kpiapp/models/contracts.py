"""Agency KPI contracts, their versioned terms, monthly reports and client invites
(docs/contracts.md, migration 0018)."""
from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState, ReportStep
from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.appraisal import POINTS, VALUE, ItemFields
from kpiapp.models.base import EnumText, UTCDateTime, utcnow

MONEY = Numeric(14, 2)


class ContractPeriod(LabelledEnum):
    monthly = "monthly", N_("monthly")
    quarterly = "quarterly", N_("quarterly")


class ContractStatus(LabelledEnum):
    draft = "draft", N_("Draft")
    active = "active", N_("In force")
    ended = "ended", N_("Ended")


class Contract(db.Model):
    """One KPI contract between our organisation (the agency) and one client company."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    client_company_id: Mapped[int] = mapped_column(ForeignKey("client_company.id"), index=True)
    period: Mapped[ContractPeriod] = mapped_column(EnumText(ContractPeriod, 16), default=ContractPeriod.monthly)
    start_date = mapped_column(Date, nullable=False)
    end_date = mapped_column(Date, nullable=False)
    status: Mapped[ContractStatus] = mapped_column(EnumText(ContractStatus, 16), default=ContractStatus.draft)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    client_company = relationship("ClientCompany")
    lead = relationship("User", foreign_keys=[lead_id])
    members = relationship("ContractMember", back_populates="contract", cascade="all, delete-orphan")
    versions = relationship("ContractVersion", back_populates="contract", order_by="ContractVersion.number",
                            cascade="all, delete-orphan")

    @property
    def team_ids(self):
        return {m.person_id for m in self.members} | ({self.lead_id} if self.lead_id else set())


class ContractMember(db.Model):
    """A person of the agency's account team for a contract."""

    __tablename__ = "contract_member"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    contract = relationship("Contract", back_populates="members")
    person = relationship("User")


class ContractVersion(db.Model):
    """The contract's terms, numbered 1, 2, ...: stores, KPI clauses and fee terms.
    Version 1 comes into force with the contract; later ones are amendments
    (amendment_flow.py) the client accepts or rejects."""

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[TermsState] = mapped_column(EnumText(TermsState, 16), default=TermsState.DRAFT)
    effective_from = mapped_column(Date, nullable=False)  # the first day of a reporting period
    summary: Mapped[str | None] = mapped_column(Text)  # what the amendment changes, in words
    base_fee = mapped_column(MONEY, nullable=False, default=0)
    fee_currency: Mapped[str] = mapped_column(String(3))
    commission_pct = mapped_column(Numeric(7, 3), nullable=True)
    commission_metric: Mapped[str | None] = mapped_column(String(64))  # a metric key, e.g. gmv
    # [{"lower": "110" | null, "upper": "120" | null, "adjust_pct": "10"}]: lower inclusive,
    # upper exclusive, applied to base fee + commission (fees.py)
    fee_bands: Mapped[list] = mapped_column(JSON, default=list)
    bonus_threshold = mapped_column(POINTS, nullable=True)
    bonus_amount = mapped_column(MONEY, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_at = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # activated / accepted / ...
    decided_at = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text)  # the client's reason for a rejection

    contract = relationship("Contract", back_populates="versions")
    stores = relationship("ContractVersionStore", cascade="all, delete-orphan")
    clauses = relationship("ContractClause", back_populates="version", order_by="ContractClause.seq",
                           cascade="all, delete-orphan")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])

    @property
    def store_ids(self):
        return [s.store_id for s in self.stores]


class ContractVersionStore(db.Model):
    __tablename__ = "contract_version_store"
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id", ondelete="CASCADE"),
                                            primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), primary_key=True, index=True)
    store = relationship("Store")


class ContractClause(ItemFields, db.Model):
    """One KPI commitment (合同条款): the columns of a KPI item, scored by the same engine,
    over `store_ids` (a subset of the version's stores; empty = all) and optionally one SKU."""

    __tablename__ = "contract_clause"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id", ondelete="CASCADE"), index=True)
    store_ids: Mapped[list] = mapped_column(JSON, default=list)
    sku: Mapped[str | None] = mapped_column(String(64))
    version = relationship("ContractVersion", back_populates="clauses")


class ContractReport(db.Model):
    """The agency's report for one period of a contract (report_flow.py); its numbers live in
    revisions, its steps in events."""

    __tablename__ = "contract_report"
    __table_args__ = (UniqueConstraint("contract_id", "period_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"))  # the terms in force
    period_start = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    state: Mapped[ReportState] = mapped_column(EnumText(ReportState, 16), default=ReportState.DRAFT, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # the current revision's number
    created_at = mapped_column(UTCDateTime, default=utcnow)

    contract = relationship("Contract")
    version = relationship("ContractVersion")
    revisions = relationship("ContractReportRevision", back_populates="report",
                             order_by="ContractReportRevision.number", cascade="all, delete-orphan")
    events = relationship("ContractReportEvent", back_populates="report", order_by="ContractReportEvent.id",
                          cascade="all, delete-orphan")
    overrides = relationship("ContractOverride", cascade="all, delete-orphan")


class ContractReportRevision(db.Model):
    """The numbers of one revision: a line per clause (value, provenance, points), the total
    score and the fee steps. Rewritten while a draft; frozen once sent."""

    __tablename__ = "contract_report_revision"
    __table_args__ = (UniqueConstraint("report_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("contract_report.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    # [{"clause_id", "name", "metric_key", "unit", "value", "override": {"value", "reason"} | null,
    #   "points", "explanation", "weight", "provenance": {...}}], numbers as strings
    lines: Mapped[list] = mapped_column(JSON, default=list)
    score = mapped_column(POINTS, nullable=True)
    fee: Mapped[dict | None] = mapped_column(JSON)  # {"steps": [...], "total": "..."} (fees.py)
    fee_total = mapped_column(MONEY, nullable=True)
    data_as_of = mapped_column(Date, nullable=True)
    internal_note: Mapped[str | None] = mapped_column(Text)  # the agency's; never shown to the client
    computed_at = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    sent_at = mapped_column(UTCDateTime, nullable=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    report = relationship("ContractReport", back_populates="revisions")


class ContractReportEvent(db.Model):
    """One step on a report: who (and from which account), when, on which revision and clause."""

    __tablename__ = "contract_report_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("contract_report.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    step: Mapped[ReportStep] = mapped_column(EnumText(ReportStep, 16))
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("contract_clause.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_account: Mapped[str | None] = mapped_column(String(254))  # the e-mail signed in at the time
    at = mapped_column(UTCDateTime, default=utcnow)

    report = relationship("ContractReport", back_populates="events")
    actor = relationship("User")
    clause = relationship("ContractClause")


class ContractOverride(db.Model):
    """A manual value for one clause of one report, with its reason (shown to the client)."""

    __tablename__ = "contract_override"
    __table_args__ = (UniqueConstraint("report_id", "clause_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("contract_report.id", ondelete="CASCADE"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("contract_clause.id"))
    value = mapped_column(VALUE, nullable=False)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    set_at = mapped_column(UTCDateTime, default=utcnow)


class ContractDocument(db.Model):
    """The signed PDF of an accepted report revision; append-only (triggers of migration 0018).
    `/verify` finds it by document id like an issued_report."""

    __tablename__ = "contract_document"
    __audit__ = False  # announced by an explicit 'contract_report.sign' audit event
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("contract_report.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(8))
    pdf = deferred(mapped_column(LargeBinary, nullable=False))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    signer_subject: Mapped[str] = mapped_column(String(255))
    issued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    report = relationship("ContractReport")
    accepted_by = relationship("User")


class ClientInvite(db.Model):
    """A single-use, expiring invitation for a client user; the token is stored only as its
    SHA-256 (docs/contracts.md, "Client users")."""

    __tablename__ = "client_invite"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_company_id: Mapped[int] = mapped_column(ForeignKey("client_company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the account it created
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    client_company = relationship("ClientCompany")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    AUDIT_SECRET_FIELDS = ("token_hash",)
