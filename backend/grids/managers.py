"""Who keeps a community's own lists (its 报到 registry, its 常用语): its admins, and the street's
and the system's above them. One rule, so each list that a community keeps is scoped the same way."""
from sqlalchemy import select

from ..accounts.actors import Actor
from ..errors import Forbidden
from ..extensions import db
from .models import Community

MANAGERS = ("community_admin", "street_admin", "sysadmin")


def managed_communities(actor: Actor, refusal: str) -> list[Community]:
    """The communities whose lists the actor keeps; anyone else is refused (403) with `refusal`."""
    if not actor.is_staff or actor.role not in MANAGERS:
        raise Forbidden(refusal)
    query = select(Community).order_by(Community.id)
    if actor.role == "community_admin":
        query = query.where(Community.id == actor.community_id)
    elif actor.role == "street_admin":
        query = query.where(Community.street_id == actor.street_id)
    return list(db.session.scalars(query))
