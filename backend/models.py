"""Import every model so metadata is complete (Alembic autogenerate, create_all in tests)."""
from .accounts.models import Resident, Staff  # noqa: F401
from .grids.models import Building, Community, Department, Grid, Street  # noqa: F401
from .orders.models import Attachment, CannedReply, CoReporter, Order, OrderEvent, OrderSequence  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .open311.models import Partner  # noqa: F401
from .privacy.models import PrivacyEvent  # noqa: F401
from .disputes.models import Dispute, DisputeEvent, DisputeMeeting, DisputeParty, DisputeTask  # noqa: F401
from .wishes.models import ListItem, Member, PartnerUnit, VolunteerHours, Wish, WishEvent  # noqa: F401
from .knowledge.models import KnowledgeEntry, KnowledgeEvent, KnowledgeQuestion  # noqa: F401
