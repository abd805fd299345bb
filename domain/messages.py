"""The two messages the procedure (QĐ 1187/QĐ-BHXH) prescribes, verbatim (DESIGN §1)."""

RESIDENCE_MISMATCH = (
    "Các thành viên kê khai không cùng địa chỉ thường trú hoặc không cùng địa chỉ tạm trú trong "
    "Cơ sở dữ liệu quốc gia về dân cư, đề nghị liên hệ trực tiếp với cơ quan công an nơi cư trú để "
    "được hướng dẫn cập nhật, điều chỉnh thông tin nơi cư trú của các thành viên"
)

RENEWAL_SUCCESS = (
    "Người tham gia tiếp tục sử dụng thẻ BHYT (đã cấp) đi khám chữa bệnh kể từ ngày nhận được "
    "thông báo này"
)
