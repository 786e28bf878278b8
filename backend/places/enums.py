from enum import StrEnum


class PlaceKind(StrEnum):
    space = "space"
    street = "street"
    market = "market"
    loan_station = "loan_station"


KIND_LABELS = {
    PlaceKind.space: "喵小创空间",
    PlaceKind.street: "创业街区",
    PlaceKind.market: "创业市场",
    PlaceKind.loan_station: "创贷之家",
}

SERVICES = ["政策咨询", "创业指导", "贷款咨询", "创业培训", "活动场地", "导师对接", "项目路演", "工商注册帮办"]
