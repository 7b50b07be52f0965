"""Deciding which addresses are one person: safe merges done, others offered with a reason."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwarm.services.identity.addresses import identity_key, normalize_name
from keepwarm.services.identity.merging import merge_people
from keepwarm.services.identity.owner import name_tokens
from keepwarm.services.mail.noise import munged_author
from keepwarm.services.models import (
    Event,
    EventAttendee,
    IdentityDecision,
    Message,
    MessageRecipient,
    PersonAddress,
)

__all__ = [
    "MergeCandidate",
    "merge_candidates",
    "observed_names",
    "owner_aliases",
    "resolve_identities",
]

# Mailbox names shared by unrelated people on different domains.
_GENERIC_LOCALS = {
    "info",
    "admin",
    "office",
    "contact",
    "hello",
    "mail",
    "sales",
    "support",
    "team",
    "jobs",
    "webmaster",
    "postmaster",
    "help",
    "enquiries",
    "marketing",
    "news",
}


@dataclass(frozen=True, slots=True)
class MergeCandidate:
    """Two addresses that may be one person, and why we think so."""

    address: str
    other: str
    reason: str


def observed_names(session: Session, user_id: int) -> dict[str, Counter[str]]:
    """For every address, the normalised display names seen beside it and how often."""
    names: dict[str, Counter[str]] = defaultdict(Counter)
    queries = (
        select(Message.sender, Message.sender_name, func.count())
        .where(Message.user_id == user_id, Message.sender_name.is_not(None))
        .group_by(Message.sender, Message.sender_name),
        select(MessageRecipient.address, MessageRecipient.name, func.count())
        .join(Message, Message.id == MessageRecipient.message_id)
        .where(Message.user_id == user_id, MessageRecipient.name.is_not(None))
        .group_by(MessageRecipient.address, MessageRecipient.name),
        select(EventAttendee.address, EventAttendee.name, func.count())
        .join(Event, Event.id == EventAttendee.event_id)
        .where(Event.user_id == user_id, EventAttendee.name.is_not(None))
        .group_by(EventAttendee.address, EventAttendee.name),
    )
    for query in queries:
        for address, name, n in session.execute(query):
            if munged_author(name):
                continue  # 'Ann Lee via AppArmor' names the author, not the list address
            key = normalize_name(name)
            if address and key:
                names[address][key] += int(n)
    return names


def _main_name(counter: Counter[str] | None) -> str | None:
    if not counter:
        return None
    name, _ = counter.most_common(1)[0]
    return name if len(name.split()) >= 2 else None


def _person_of(session: Session, user_id: int) -> dict[str, int]:
    """Every address of the user's people, with the person it belongs to."""
    rows = session.execute(
        select(PersonAddress.address, PersonAddress.person_id).where(
            PersonAddress.user_id == user_id
        )
    ).all()
    return {address: pid for address, pid in rows}


def _decisions(session: Session, user_id: int) -> tuple[set[str], list[tuple[str, str]]]:
    split: set[str] = set()
    merges: list[tuple[str, str]] = []
    for d in session.scalars(
        select(IdentityDecision)
        .where(IdentityDecision.user_id == user_id)
        .order_by(IdentityDecision.at, IdentityDecision.id)
    ):
        if d.kind == "split":
            split.add(d.address)
            merges = [m for m in merges if d.address not in m]
        else:
            split.discard(d.address)
            split.discard(d.other)
            merges.append((d.address, d.other))
    return split, merges


def _same_name_same_domain(a: str, b: str, name: str) -> bool:
    (la, _, da), (lb, _, db) = a.rpartition("@"), b.rpartition("@")
    tokens = name_tokens(name)
    return da == db and bool(name_tokens(la) & tokens) and bool(name_tokens(lb) & tokens)


def resolve_identities(session: Session, user_id: int) -> int:
    """Merge the people that are certainly one; return how many merges were made.

    Certain means: the provider delivers both addresses to one mailbox (Gmail's dots and
    `+tags`), or both carry the same full name on the same domain and each mailbox name is
    made of that name (`w..delainey` and `david.delainey`, both "David W Delainey"), or the
    user said so. An address the user split off is never merged automatically.
    """
    split, user_merges = _decisions(session, user_id)
    person_of = _person_of(session, user_id)
    names = observed_names(session, user_id)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for address in person_of:
        if address in split:
            continue
        groups[("key", identity_key(address))].append(address)
        name = _main_name(names.get(address))
        if name:
            groups[("name", name + "@" + address.rpartition("@")[2])].append(address)
    pairs: list[tuple[str, str]] = list(user_merges)
    for (kind, label), members in groups.items():
        members.sort()
        for other in members[1:]:
            if kind == "key" or _same_name_same_domain(members[0], other, label.rpartition("@")[0]):
                pairs.append((members[0], other))
    merges = 0
    for a, b in pairs:
        keep_id, gone_id = person_of.get(a), person_of.get(b)
        if keep_id is None or gone_id is None or keep_id == gone_id:
            continue
        merge_people(session, user_id, keep_id, gone_id)
        merges += 1
        for address, pid in person_of.items():
            if pid == gone_id:
                person_of[address] = keep_id
    return merges


def merge_candidates(session: Session, user_id: int, among: set[int]) -> list[MergeCandidate]:
    """Pairs of people (at least one in `among`) that may be one, with the reason; for the user.

    Same full name on different domains, or the same distinctive mailbox name on different
    domains. Pairs the user already decided about are not offered again.
    """
    split, user_merges = _decisions(session, user_id)
    person_of = _person_of(session, user_id)
    names = observed_names(session, user_id)
    by_name: dict[str, list[str]] = defaultdict(list)
    by_local: dict[str, list[str]] = defaultdict(list)
    for address in person_of:
        name = _main_name(names.get(address))
        if name:
            by_name[name].append(address)
        local = address.rpartition("@")[0]
        if len(local) >= 5 and local not in _GENERIC_LOCALS:
            by_local[local].append(address)
    decided = {frozenset(m) for m in user_merges}
    seen: set[frozenset[int]] = set()
    out: list[MergeCandidate] = []
    for index, template in (
        (by_name, "both are called '{}'"),
        (by_local, "same mailbox name '{}' at different domains"),
    ):
        for value, members in sorted(index.items()):
            members.sort()
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    pa, pb = person_of[a], person_of[b]
                    pair = frozenset((pa, pb))
                    if pa == pb or pair in seen or not ({pa, pb} & among):
                        continue
                    if a in split or b in split or frozenset((a, b)) in decided:
                        continue
                    seen.add(pair)
                    out.append(MergeCandidate(a, b, template.format(value)))
    return out


def owner_aliases(session: Session, user_id: int, owner: set[str]) -> list[str]:
    """Other addresses of the owner: those whose name is exactly the name the owner sends as.

    The owner forwards mail to a home account ("Clint Dean (E-mail)") or is written to at an
    old address; such an address is the owner, never a contact. Exact full-name equality
    (two words or more, initials included) keeps "Craig J. Dean" apart from "Craig Dean".
    """
    if not owner:
        return []
    names = observed_names(session, user_id)
    own: Counter[str] = Counter()
    for address in owner:
        own.update(names.get(address, Counter()))
    owner_name = _main_name(own)
    if owner_name is None:
        return []
    return sorted(
        address
        for address, counter in names.items()
        if address not in owner and _main_name(counter) == owner_name
    )
