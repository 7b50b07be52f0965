"""Sending what is owed, with the runtime's transport, signer, rules and clock.

`send_owed` is what the send actor calls for one delivery; `send_due_now` is one whole
scheduler tick done in this process (the embedded CLI and the tests use it).
"""

from __future__ import annotations

from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.notify.plan import plan_due
from keepwarm.services.notify.send import SendOutcome, send_delivery
from keepwarm.services.runtime import Runtime

__all__ = ["send_due_now", "send_owed"]


def send_owed(runtime: Runtime, delivery_id: int) -> SendOutcome:
    """Send one owed email, if this caller wins its claim; say what happened."""
    return send_delivery(
        runtime.session_factory,
        delivery_id,
        runtime.mail_transport(),
        runtime.link_signer(),
        runtime.notify_rules,
        runtime.clock,
    )


def send_due_now(runtime: Runtime) -> list[SendOutcome]:
    """Owe what is due now and send it, here and now; the outcome of each."""
    with unit_of_work(runtime.session_factory) as uow:
        due = plan_due(uow.session, runtime.clock(), runtime.notify_rules)
    return [send_owed(runtime, delivery_id) for delivery_id in due]
