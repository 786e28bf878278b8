from backend.core.enums import LabelledEnum


class PlaceKind(LabelledEnum):
    space = "space", "喵小创空间"
    street = "street", "创业街区"
    market = "market", "创业市场"
    loan_station = "loan_station", "创贷之家"


KIND_LABELS = PlaceKind.labels()

SERVICES = ["政策咨询", "创业指导", "贷款咨询", "创业培训", "活动场地", "导师对接", "项目路演", "工商注册帮办"]
