from enum import StrEnum


class EventKind(StrEnum):
    salon = "salon"
    market = "market"
    lecture = "lecture"
    bootcamp = "bootcamp"
    mentor_visit = "mentor_visit"
    roadshow = "roadshow"
    policy_briefing = "policy_briefing"


KIND_LABELS = {
    EventKind.salon: "创业沙龙",
    EventKind.market: "创业集市",
    EventKind.lecture: "创业讲堂",
    EventKind.bootcamp: "训练营",
    EventKind.mentor_visit: "导师基层行",
    EventKind.roadshow: "路演",
    EventKind.policy_briefing: "政策宣讲",
}


class EventState(StrEnum):
    draft = "draft"
    published = "published"
    cancelled = "cancelled"


EVENT_STATE_LABELS = {EventState.draft: "草稿", EventState.published: "已发布", EventState.cancelled: "已取消"}


class RegistrationState(StrEnum):
    pending = "pending"  # waiting for the organiser's approval; holds no seat
    registered = "registered"  # holds a seat
    waitlisted = "waitlisted"  # in the queue, by id (arrival order)
    cancelled = "cancelled"
    rejected = "rejected"


REGISTRATION_LABELS = {
    RegistrationState.pending: "待审核",
    RegistrationState.registered: "报名成功",
    RegistrationState.waitlisted: "候补中",
    RegistrationState.cancelled: "已取消",
    RegistrationState.rejected: "未通过",
}

# a person has at most one of these per event (the live registration)
ACTIVE_STATES = (RegistrationState.pending, RegistrationState.registered, RegistrationState.waitlisted,
                 RegistrationState.rejected)
# the live ones the person still expects to attend: they may cancel, and are told if the event changes
OPEN_STATES = tuple(state for state in ACTIVE_STATES if state != RegistrationState.rejected)
