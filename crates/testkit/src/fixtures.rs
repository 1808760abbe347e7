//! Small, valid catalogue records for tests.

use motcua_domain::{Agency, AgencyCode, AgencyLevel, Field, NonEmptyText, Procedure};
use motcua_store::Store;
use time::macros::date;

pub fn agency(code: &str, name: &str) -> Agency {
    Agency {
        code: AgencyCode::parse(code).expect("fixture agency code"),
        name: NonEmptyText::parse(name).expect("fixture agency name"),
        parent: None,
        level: AgencyLevel::Province,
        address: Some("Số 1 đường Trần Phú".into()),
        valid_from: date!(2020 - 01 - 01),
        valid_until: None,
        successor: None,
    }
}

pub fn field(code: &str, name: &str) -> Field {
    Field {
        code: motcua_domain::FieldCode::parse(code).expect("fixture field code"),
        name: NonEmptyText::parse(name).expect("fixture field name"),
    }
}

/// A procedure carried out by `agency`, with one case `mac-dinh` and a 5-working-day limit online and in person.
pub fn procedure(code: &str, name: &str, agency: &str) -> Procedure {
    serde_json::from_value(serde_json::json!({
        "code": code,
        "name": name,
        "fields": ["HOTICH"],
        "implementing_levels": ["province"],
        "agencies": [agency],
        "applicants": ["citizen"],
        "cases": [{
            "key": "mac-dinh",
            "name": "Trường hợp thông thường",
            "components": [{"name": "Tờ khai", "originals": 1, "copies": 0}],
            "time_limits": [
                {"channel": "in_person", "limit": {"value": 5, "unit": "working_days"}},
                {"channel": "online", "limit": {"value": 5, "unit": "working_days"}}
            ],
            "fees": [{"kind": "levy", "amount": 100000, "description": "Lệ phí"}]
        }]
    }))
    .expect("fixture procedure")
}

pub const AGENCY: &str = "000.00.06.H56";
pub const OTHER_AGENCY: &str = "000.00.07.H56";
pub const PROCEDURE: &str = "1.001193";

/// Two agencies, one field and one procedure (version 1) at the first agency.
pub async fn seed_minimal(store: &Store) {
    store
        .agencies
        .upsert(&[
            agency(AGENCY, "Sở Tư pháp"),
            agency(OTHER_AGENCY, "Sở Xây dựng"),
        ])
        .await
        .expect("seed agencies");
    store
        .fields
        .upsert(&[field("HOTICH", "Hộ tịch")])
        .await
        .expect("seed fields");
    store
        .catalogue
        .save_procedure(
            &procedure(PROCEDURE, "Đăng ký khai sinh", AGENCY),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("seed procedure");
}
