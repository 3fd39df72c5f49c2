"""People and their accounts: one row is both the person in the org chart and the login."""
import secrets
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    hr = "hr"
    employee = "employee"
    client = "client"


def new_session_token():
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(String(16), default=Role.employee)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    client_company_id: Mapped[int | None] = mapped_column(ForeignKey("client_company.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # IM accounts for messages to this person (docs/notifications.md); else matched by e-mail
    dingtalk_id: Mapped[str | None] = mapped_column(String(64))
    feishu_id: Mapped[str | None] = mapped_column(String(64))
    wecom_id: Mapped[str | None] = mapped_column(String(64))

    # Account fields (never shown, never audited in clear)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_counter: Mapped[int | None] = mapped_column()  # a code is good once
    recovery_codes: Mapped[list | None] = mapped_column(JSON)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until = mapped_column(UTCDateTime, nullable=True)
    last_login_at = mapped_column(UTCDateTime, nullable=True)

    department = relationship("Department")
    position = relationship("Position")
    manager = relationship("User", remote_side=[id], back_populates="reports")
    reports = relationship("User", back_populates="manager", order_by="User.name")
    client_company = relationship("ClientCompany")

    AUDIT_SECRET_FIELDS = ("password_hash", "session_token", "totp_secret", "recovery_codes")

    def get_id(self):
        # Flask-Login "alternative tokens": rotating this token ends every
        # session and remember-me cookie issued before (SECURITY.md S2).
        return self.session_token

    @property
    def is_active(self):
        return self.active

    def rotate_session_token(self):
        self.session_token = new_session_token()

    def managers(self):
        """The reporting line upwards, nearest first (cycle-safe)."""
        chain, node, seen = [], self.manager, {self.id}
        while node is not None and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = node.manager
        return chain

    def is_manager_of(self, other):
        return other is not None and any(m.id == self.id for m in other.managers())

    def __repr__(self):
        return f"<User {self.id} {self.email}>"
