"""What the programme's yearly targets count. A measure the platform itself records has a dashboard
section (its actuals come from events, visits, places, vouchers); the others (people supported,
loans, firms…) are targets the plans set that the platform keeps as data and shows beside the
figures, with no actual of its own."""
from backend.core.enums import LabelledEnum


class Measure(LabelledEnum):
    # counted by the platform
    events_held = "events_held", "创业促进活动场次"
    event_attendance = "event_attendance", "活动签到人次"
    mentor_visits = "mentor_visits", "创业导师基层行场次"
    station_visits = "station_visits", "场所到访人次"
    people_served = "people_served", "服务人数（去重）"
    stations_in_service = "stations_in_service", "在运营创贷之家驿站"
    vouchers_redeemed = "vouchers_redeemed", "创业券核销金额"
    providers_listed = "providers_listed", "入库服务机构"
    # set by the plans, not counted by the platform
    quality_projects = "quality_projects", "征集创业创新优质项目"
    people_supported = "people_supported", "扶持创业人数"
    jobs_created = "jobs_created", "带动就业人数"
    guaranteed_loans = "guaranteed_loans", "新发放创业担保贷款"
    specialised_firms = "specialised_firms", "培育专精特新企业"
    featured_businesses = "featured_businesses", "培育“名特优新”个体工商户"
    talent_teams = "talent_teams", "扶持高层次科技人才团队"
    startup_streets = "startup_streets", "创业街区"
    startup_markets = "startup_markets", "创业市场"
    mentor_studios = "mentor_studios", "创业导师工作室"
    startup_training = "startup_training", "创业培训人数"
    skills_training = "skills_training", "补贴性职业技能培训人数"


MEASURE_LABELS = Measure.labels()

# the unit each measure is counted in; money is integer fen, shown in 元
UNITS = {
    Measure.events_held: "场", Measure.event_attendance: "人次", Measure.mentor_visits: "场",
    Measure.station_visits: "人次", Measure.people_served: "人", Measure.stations_in_service: "个",
    Measure.vouchers_redeemed: "元", Measure.providers_listed: "家", Measure.quality_projects: "个",
    Measure.people_supported: "人", Measure.jobs_created: "人", Measure.guaranteed_loans: "元",
    Measure.specialised_firms: "家", Measure.featured_businesses: "家", Measure.talent_teams: "个",
    Measure.startup_streets: "个", Measure.startup_markets: "个", Measure.mentor_studios: "家",
    Measure.startup_training: "人", Measure.skills_training: "人",
}
MONEY = frozenset({Measure.vouchers_redeemed, Measure.guaranteed_loans})
# the platform counts these: the dashboard shows an actual beside their targets
COUNTED = frozenset({Measure.events_held, Measure.event_attendance, Measure.mentor_visits, Measure.station_visits,
                     Measure.people_served, Measure.stations_in_service, Measure.vouchers_redeemed,
                     Measure.providers_listed, Measure.guaranteed_loans})


class Status(LabelledEnum):
    done = "done", "已完成"
    ahead = "ahead", "快于序时进度"
    behind = "behind", "落后于序时进度"
