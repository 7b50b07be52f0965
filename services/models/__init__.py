"""Typed SQLAlchemy models, one module per domain; imported here so Alembic sees them all."""

from keepwarm.services.models.accounts import (
    Account,
    AccountStatus,
    RunStatus,
    StreamKind,
    SyncCursor,
    SyncRun,
)
from keepwarm.services.models.calendar import Event, EventAttendee
from keepwarm.services.models.contacts import Interaction, InteractionKind, Person, PersonAddress
from keepwarm.services.models.deliveries import Delivery, DeliveryKind, DeliveryStatus
from keepwarm.services.models.identity import IdentityDecision
from keepwarm.services.models.lifecycle import Action, LifecycleEvent
from keepwarm.services.models.mail import Message, MessageRecipient
from keepwarm.services.models.notes import FollowUp, Note, UsedLink
from keepwarm.services.models.queue import ContactStatsRow, QueueState
from keepwarm.services.models.runs import DeadLetter, ImportRun
from keepwarm.services.models.sources import RecordKind, RecordSource, source_key
from keepwarm.services.models.users import OwnerAddress, User
from keepwarm.services.models.web import ApiToken, Exclusion, Identity, WebSession

__all__ = [
    "Account",
    "AccountStatus",
    "Action",
    "ApiToken",
    "ContactStatsRow",
    "DeadLetter",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Event",
    "EventAttendee",
    "Exclusion",
    "FollowUp",
    "Identity",
    "IdentityDecision",
    "ImportRun",
    "Interaction",
    "InteractionKind",
    "LifecycleEvent",
    "Message",
    "MessageRecipient",
    "Note",
    "OwnerAddress",
    "Person",
    "PersonAddress",
    "QueueState",
    "RecordKind",
    "RecordSource",
    "RunStatus",
    "StreamKind",
    "SyncCursor",
    "SyncRun",
    "UsedLink",
    "User",
    "WebSession",
    "source_key",
]
