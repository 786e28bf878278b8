from enum import StrEnum

from backend.core.enums import LabelledEnum


class Role(LabelledEnum):
    entrepreneur = "entrepreneur", "创业者"
    provider_staff = "provider_staff", "服务机构人员"
    station_staff = "station_staff", "场所工作人员"
    organiser = "organiser", "活动组织者"
    admin = "admin", "人社部门管理员"
    bank_staff = "bank_staff", "合作银行信贷员"


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


# Demo accounts created by `flask seed-demo`, one per role (phones in a range no carrier issues).
DEMO_PHONES = {
    Role.entrepreneur: ("19900000001", "张创业"),
    Role.provider_staff: ("19900000002", "李服务"),
    Role.station_staff: ("19900000003", "王驿站"),
    Role.organiser: ("19900000004", "赵组织"),
    Role.admin: ("19900000005", "刘管理"),
    Role.bank_staff: ("19900000008", "周信贷"),
}
# One-tap demo logins: key -> (role, phone, name, the administrator's region, label). The province
# administrator sees everything; the 任城区 one only their district.
DEMO_ACCOUNTS = {
    **{role.value: (role, phone, name, "370000" if role == Role.admin else None,
                    "省级管理员" if role == Role.admin else role.label)
       for role, (phone, name) in DEMO_PHONES.items()},
    "district_admin": (Role.admin, "19900000006", "孙区县", "370811", "区县管理员（任城区）"),
}
