from enum import StrEnum

from backend.core.enums import LabelledEnum


class VisitPurpose(LabelledEnum):
    policy = "policy", "政策咨询"
    guidance = "guidance", "创业指导"
    loan = "loan", "贷款咨询"
    event = "event", "参加活动"
    other = "other", "其他"


PURPOSE_LABELS = VisitPurpose.labels()


class VisitSource(StrEnum):
    self_scan = "self_scan"  # the entrepreneur scanned the place's poster
    staff_scan = "staff_scan"  # staff scanned the entrepreneur's personal code


class ScanResult(LabelledEnum):
    ok = "ok", "已记录"  # a new visit
    duplicate = "duplicate", "今日已到访"  # this person already visited this place today: the existing visit stands
    forced = "forced", "离线放行（待核查）"  # accepted offline, invalid on the server: kept as a visit with a reason
    rejected = "rejected", "被拒绝"  # refused: in the failed-scan log


RESULT_LABELS = ScanResult.labels()


class Channel(LabelledEnum):
    """Where a scan was made: at a place (a visit) or at an event's door (an attendance)."""
    place = "place", "场所签到"
    door = "door", "活动签到"


CHANNEL_LABELS = Channel.labels()


def result_label(channel: Channel, result: ScanResult, conflict: bool) -> str:
    """A scan's outcome in words: at a door a second scan means 已签到; a conflict says so."""
    label = "已签到" if channel == Channel.door and result == ScanResult.duplicate else RESULT_LABELS[result]
    return label + ("（多台设备重复）" if conflict else "")

# Why a scan was refused: one list for doors and places. A refusal an offline device could not have
# known about is *forceable*: scanned offline, the scan is kept as forced with its reason (the
# person was let in); every other refusal is rejected. A refusal for lack of authority (wrong_event,
# wrong_place) is never forceable.
REASON_LABELS = {
    # the code itself (backend/core/codes.py)
    "malformed": "二维码无法识别（不是本平台的码，或内容不完整）",
    "unknown_key": "签名密钥未知（二维码来自旧密钥或其他系统）",
    "bad_signature": "签名无效，二维码可能被伪造或篡改",
    "wrong_type": "二维码类型不对（如在活动门口扫了个人码）",
    "not_yet_valid": "二维码尚未生效（扫码时间早于有效期）",
    "expired": "二维码已过期（扫码时间晚于有效期）",
    "revoked": "出示二维码的手机或电子票已被停用",
    # the person, the registration, the event
    "user_blocked": "该用户账号已被停用",
    "registration_cancelled": "该报名已取消",
    "event_cancelled": "活动已取消",
    "not_registered": "该报名尚未成功（待审核或候补中）",
    "registration_not_found": "报名记录不存在",
    # the scanning device and its authority
    "device_revoked": "扫码设备停用后仍在扫码",
    "clock_skew": "扫码设备的时间不准确，扫码时间在未来",
    "wrong_event": "不是本场活动的票",
    "wrong_place": "不是本场所的票（无权为该活动签到）",
    "nonce_reused": "扫码编号已被另一条记录使用",
}
FORCEABLE = frozenset({"revoked", "user_blocked", "device_revoked", "registration_cancelled", "event_cancelled",
                       "not_yet_valid", "expired"})
