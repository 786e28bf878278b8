from backend.core.enums import LabelledEnum


class EventKind(LabelledEnum):
    salon = "salon", "创业沙龙"
    market = "market", "创业集市"
    lecture = "lecture", "创业讲堂"
    bootcamp = "bootcamp", "训练营"
    mentor_visit = "mentor_visit", "导师基层行"
    roadshow = "roadshow", "路演"
    policy_briefing = "policy_briefing", "政策宣讲"


KIND_LABELS = EventKind.labels()


class EventState(LabelledEnum):
    draft = "draft", "草稿"
    published = "published", "已发布"
    cancelled = "cancelled", "已取消"


EVENT_STATE_LABELS = EventState.labels()


class RegistrationState(LabelledEnum):
    pending = "pending", "待审核"  # waiting for the organiser's approval; holds no seat
    registered = "registered", "报名成功"  # holds a seat
    waitlisted = "waitlisted", "候补中"  # in the queue, by id (arrival order)
    cancelled = "cancelled", "已取消"
    rejected = "rejected", "未通过"


REGISTRATION_LABELS = RegistrationState.labels()

# a person has at most one of these per event (the live registration)
ACTIVE_STATES = (RegistrationState.pending, RegistrationState.registered, RegistrationState.waitlisted,
                 RegistrationState.rejected)
# the live ones the person still expects to attend: they may cancel, and are told if the event changes
OPEN_STATES = tuple(state for state in ACTIVE_STATES if state != RegistrationState.rejected)
