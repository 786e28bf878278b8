from enum import StrEnum


class VisitPurpose(StrEnum):
    policy = "policy"
    guidance = "guidance"
    loan = "loan"
    event = "event"
    other = "other"


PURPOSE_LABELS = {
    VisitPurpose.policy: "政策咨询",
    VisitPurpose.guidance: "创业指导",
    VisitPurpose.loan: "贷款咨询",
    VisitPurpose.event: "参加活动",
    VisitPurpose.other: "其他",
}


class VisitSource(StrEnum):
    self_scan = "self_scan"  # the entrepreneur scanned the place's poster
    staff_scan = "staff_scan"  # staff scanned the entrepreneur's personal code


class ScanResult(StrEnum):
    ok = "ok"  # a new visit
    duplicate = "duplicate"  # this person already visited this place today: the existing visit stands
    forced = "forced"  # accepted offline, invalid on the server: kept as a visit with a reason
    rejected = "rejected"  # refused: in the failed-scan log


RESULT_LABELS = {ScanResult.ok: "已记录", ScanResult.duplicate: "今日已到访", ScanResult.forced: "离线放行（待核查）",
                 ScanResult.rejected: "被拒绝"}
