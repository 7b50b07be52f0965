"""Typed SQLAlchemy models, one module per domain; imported here so Alembic sees them all."""

from services.models.accounts import Account, AccountStatus, SyncRun
from services.models.calendar import Event, EventAttendee
from services.models.contacts import Interaction, InteractionKind, Person, PersonAddress
from services.models.deliveries import Delivery, DeliveryKind, DeliveryStatus
from services.models.identity import IdentityDecision
from services.models.lifecycle import Action, LifecycleEvent
from services.models.mail import Message, MessageRecipient
from services.models.notes import FollowUp, Note, UsedLink
from services.models.runs import DeadLetter, ImportRun
from services.models.users import OwnerAddress, User

__all__ = [
    "Account",
    "AccountStatus",
    "Action",
    "DeadLetter",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Event",
    "EventAttendee",
    "FollowUp",
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
    "SyncRun",
    "UsedLink",
    "User",
]
