from enum import StrEnum

from backend.core.enums import LabelledEnum


class Role(LabelledEnum):
    entrepreneur = "entrepreneur", "创业者"
    provider_staff = "provider_staff", "服务机构人员"
    station_staff = "station_staff", "场所工作人员"
    organiser = "organiser", "活动组织者"
    admin = "admin", "人社部门管理员"


ROLE_LABELS = Role.labels()


class SubjectType(LabelledEnum):
    individual = "individual", "个人"
    sole_proprietor = "sole_proprietor", "个体工商户"
    startup = "startup", "初创企业"
    tech_startup = "tech_startup", "科创企业"


SUBJECT_LABELS = SubjectType.labels()


class WechatApp(StrEnum):
    mini = "mini"  # mini-program, code2session
    oa = "oa"  # official account web OAuth
