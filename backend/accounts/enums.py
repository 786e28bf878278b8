from enum import StrEnum


class Role(StrEnum):
    entrepreneur = "entrepreneur"
    provider_staff = "provider_staff"
    station_staff = "station_staff"
    organiser = "organiser"
    admin = "admin"


ROLE_LABELS = {
    Role.entrepreneur: "创业者",
    Role.provider_staff: "服务机构人员",
    Role.station_staff: "驿站/街区/空间工作人员",
    Role.organiser: "活动组织者",
    Role.admin: "人社部门管理员",
}


class SubjectType(StrEnum):
    individual = "individual"
    sole_proprietor = "sole_proprietor"
    startup = "startup"
    tech_startup = "tech_startup"


SUBJECT_LABELS = {
    SubjectType.individual: "个人",
    SubjectType.sole_proprietor: "个体工商户",
    SubjectType.startup: "初创企业",
    SubjectType.tech_startup: "科创企业",
}


class WechatApp(StrEnum):
    mini = "mini"  # mini-program, code2session
    oa = "oa"  # official account web OAuth
