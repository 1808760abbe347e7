#!/usr/bin/env python3
"""Generate a large catalogue in motcua's import format for benchmarks.

Usage: gen_catalogue.py N OUT.json
Agencies, fields and the first procedures come from the demo catalogue; the rest are built from Vietnamese
procedure vocabulary, deterministically (same N, same file).
"""
import json
import random
import sys
from pathlib import Path

n = int(sys.argv[1])
out = Path(sys.argv[2])
demo = json.loads((Path(__file__).parent.parent / "crates/motcua/src/demo/catalogue.json").read_text())
rng = random.Random(20261128)

actions = ["Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Thu hồi", "Xác nhận", "Đăng ký", "Thẩm định",
           "Phê duyệt", "Công nhận", "Chấp thuận", "Thông báo", "Đăng ký thay đổi", "Hủy bỏ", "Bổ sung"]
objects = ["giấy phép kinh doanh", "chứng chỉ hành nghề", "giấy chứng nhận đủ điều kiện", "giấy phép hoạt động",
           "hồ sơ thiết kế", "báo cáo đánh giá tác động môi trường", "quyền sử dụng đất", "giấy phép lái xe",
           "giấy phép xây dựng", "hộ kinh doanh", "hợp tác xã", "cơ sở giáo dục mầm non", "trung tâm ngoại ngữ",
           "nhà thuốc", "phòng khám đa khoa", "cơ sở lưu trú du lịch", "đại lý xăng dầu", "biển quảng cáo",
           "trang trại chăn nuôi", "cơ sở giết mổ gia súc", "tàu cá", "giấy phép khai thác nước ngầm",
           "danh hiệu gia đình văn hóa", "chế độ trợ cấp", "giấy phép biểu diễn nghệ thuật", "câu lạc bộ thể thao"]
contexts = ["", " cho cá nhân", " cho tổ chức", " có vốn đầu tư nước ngoài", " trên địa bàn xã", " cấp tỉnh",
            " do bị mất, hư hỏng", " khi thay đổi thông tin", " theo hình thức trực tuyến", " đối với người khuyết tật"]
components = ["Đơn đề nghị", "Tờ khai", "Bản sao giấy tờ tùy thân", "Giấy chứng nhận đăng ký", "Bản vẽ thiết kế",
              "Báo cáo kết quả", "Văn bản ủy quyền", "Ảnh màu cỡ 4x6 cm", "Biên bản kiểm tra", "Hợp đồng thuê"]

agencies = [a["code"] for a in demo["agencies"] if not a.get("valid_until")]
fields = [f["code"] for f in demo["fields"]]
procedures = list(demo["procedures"])
levels = list(demo["service_levels"])
units = ["working_days", "working_days", "working_days", "calendar_days", "working_hours"]
i = 0
while len(procedures) < n:
    i += 1
    code = f"5.{i:06d}"
    name = f"{rng.choice(actions)} {rng.choice(objects)}{rng.choice(contexts)}"
    agency = rng.choice(agencies)
    channels = ["in_person", "online"] + (["post"] if rng.random() < 0.3 else [])
    amount = rng.choice([0, 0, 15000, 50000, 100000, 200000, 500000, 1200000])
    procedures.append({
        "code": code, "name": name, "fields": [rng.choice(fields)],
        "implementing_levels": [rng.choice(["province", "commune"])], "agencies": [agency],
        "applicants": rng.sample(["citizen", "business", "organisation"], k=rng.randint(1, 2)),
        "cases": [{
            "key": "mac-dinh", "name": "Trường hợp thông thường",
            "components": [{"name": f"{c} {name.lower()}", "originals": 1, "copies": rng.randint(0, 2), "required": True}
                           for c in rng.sample(components, k=rng.randint(1, 4))],
            "time_limits": [{"channel": ch, "limit": {"value": rng.randint(1, 30), "unit": rng.choice(units)}} for ch in channels],
            "fees": [{"kind": rng.choice(["fee", "levy"]), "amount": amount, "description": "Phí, lệ phí"}] if amount else [],
        }],
        "results": [f"Kết quả {name.lower()}"],
    })
    levels.append({"procedure": code, "case": "mac-dinh", "agency": agency, "level": rng.randint(1, 4),
                   "effective_from": "2024-01-01"})

kept = {p["code"] for p in procedures[:n]}
doc = {"format": "motcua-catalogue", "format_version": 1, "agencies": demo["agencies"], "fields": demo["fields"],
       "procedures": procedures[:n], "service_levels": [l for l in levels if l["procedure"] in kept]}
out.write_text(json.dumps(doc, ensure_ascii=False))
print(f"{len(doc['procedures'])} procedures written to {out}")
