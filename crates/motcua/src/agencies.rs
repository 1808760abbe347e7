//! `motcua agency add|list|import|export|merge`: the agency tree kept from the command line, with the same
//! checks as the administrators' page (`AgencyInput::check`) and the same merger (`AgencyRepo::merge`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use motcua_domain::{Agency, AgencyCode, AgencyField, AgencyInput, vntime};
use motcua_store::{MergeReport, Merger, Store};
use time::OffsetDateTime;

use crate::{Failure, storage_failure};

/// The name of a field as the command line spells it.
fn flag(field: AgencyField) -> &'static str {
    match field {
        AgencyField::Code => "--code",
        AgencyField::Name => "--name",
        AgencyField::Level => "--level",
        AgencyField::Parent => "--parent",
        AgencyField::ValidFrom => "--valid-from",
        AgencyField::ValidUntil => "--valid-until",
    }
}

fn today() -> time::Date {
    vntime::vn_date(OffsetDateTime::now_utc())
}

/// `motcua agency add`: one agency, checked like the form (code, name, level, an existing parent, not already
/// there).
pub async fn add(store: &Store, input: AgencyInput) -> Result<(), Failure> {
    let all = store.agencies.list().await.map_err(storage_failure)?;
    let agency = input.check(&all, None, today()).map_err(|problems| {
        Failure::Other(
            problems
                .into_iter()
                .map(|(field, message)| format!("{}: {message}", flag(field)))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    store
        .agencies
        .upsert(std::slice::from_ref(&agency))
        .await
        .map_err(storage_failure)?;
    println!(
        "Đã thêm cơ quan {} — {} ({})",
        agency.code,
        agency.name,
        agency.level.label_vi()
    );
    Ok(())
}

pub async fn list(store: &Store) -> Result<(), Failure> {
    for a in store.agencies.list().await.map_err(storage_failure)? {
        println!(
            "{}\t{}\t{}\t{}{}",
            a.code,
            a.level.as_str(),
            a.parent.map(|p| p.to_string()).unwrap_or_default(),
            a.name,
            match (a.valid_until, a.successor) {
                (Some(until), Some(s)) => format!(
                    "\t(hết hiệu lực {}, kế thừa: {s})",
                    vntime::format_date(until)
                ),
                (Some(until), None) => format!("\t(hết hiệu lực {})", vntime::format_date(until)),
                _ => String::new(),
            }
        );
    }
    Ok(())
}

/// `motcua agency export`: every agency as a JSON array, the shape of a catalogue file's `agencies`.
pub async fn export(store: &Store, output: Option<PathBuf>) -> Result<(), Failure> {
    let all = store.agencies.list().await.map_err(storage_failure)?;
    let json = serde_json::to_string_pretty(&all)
        .map_err(|e| Failure::Other(format!("không ghi được danh sách cơ quan: {e}")))?;
    match output {
        Some(path) => std::fs::write(&path, format!("{json}\n"))
            .map_err(|e| Failure::Other(format!("không ghi được tệp {}: {e}", path.display()))),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}

/// Check a list of agencies read from a file against itself and the catalogue: each valid, codes unique, every
/// parent and successor known, no cycle. Every problem is reported with the record's number.
pub fn check_file(text: &str, existing: &[Agency]) -> Result<Vec<Agency>, Vec<String>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| vec![format!("tệp không phải JSON hợp lệ: {e}")])?;
    let records = match &value {
        serde_json::Value::Array(list) => list.clone(),
        serde_json::Value::Object(o) => match o.get("agencies") {
            Some(serde_json::Value::Array(list)) => list.clone(),
            _ => {
                return Err(vec![
                    "cần một danh sách cơ quan, hoặc tệp danh mục có \"agencies\"".into(),
                ]);
            }
        },
        _ => return Err(vec!["cần một danh sách cơ quan (mảng JSON)".into()]),
    };
    let mut problems = Vec::new();
    let mut agencies = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in records.into_iter().enumerate() {
        let number = i + 1;
        match serde_json::from_value::<Agency>(record) {
            Err(e) => problems.push(format!("Cơ quan thứ {number}: {e}")),
            Ok(a) => {
                if let Err(e) = a.validate() {
                    problems.push(format!("Cơ quan thứ {number}: {e}"));
                } else if !seen.insert(a.code.clone()) {
                    problems.push(format!(
                        "Cơ quan thứ {number}: mã {} xuất hiện hai lần",
                        a.code
                    ));
                } else {
                    agencies.push((number, a));
                }
            }
        }
    }
    // the tree after the import: the file wins over the catalogue for the codes it carries
    let mut after: HashMap<AgencyCode, Agency> = existing
        .iter()
        .map(|a| (a.code.clone(), a.clone()))
        .collect();
    for (_, a) in &agencies {
        after.insert(a.code.clone(), a.clone());
    }
    let all: Vec<Agency> = after.values().cloned().collect();
    for (number, a) in &agencies {
        for (what, code) in [
            ("cơ quan cấp trên", &a.parent),
            ("cơ quan kế thừa", &a.successor),
        ] {
            if let Some(code) = code
                && !after.contains_key(code)
            {
                problems.push(format!(
                    "Cơ quan thứ {number} ({}): {what} {code} không có trong tệp cũng như trong danh mục",
                    a.code
                ));
            }
        }
        // a merger is not undone nor redirected by a file
        if let Some(before) = existing.iter().find(|e| e.code == a.code)
            && let Some(was) = &before.successor
            && a.successor.as_ref() != Some(was)
        {
            problems.push(format!(
                "Cơ quan thứ {number} ({}): đã sáp nhập vào {was}, không đổi được cơ quan kế thừa",
                a.code
            ));
        }
        // successors must end somewhere
        let mut next = a.successor.clone();
        for _ in 0..=after.len() {
            match next {
                Some(s) if s == a.code => {
                    problems.push(format!(
                        "Cơ quan thứ {number} ({}): các cơ quan kế thừa quay vòng về chính nó",
                        a.code
                    ));
                    break;
                }
                Some(s) => next = after.get(&s).and_then(|x| x.successor.clone()),
                None => break,
            }
        }
        if let Some(p) = &a.parent
            && after.contains_key(p)
            && motcua_domain::agency::is_below(&all, p, &a.code)
        {
            problems.push(format!(
                "Cơ quan thứ {number} ({}): cơ quan cấp trên {p} lại trực thuộc nó",
                a.code
            ));
        }
    }
    if problems.is_empty() {
        Ok(agencies.into_iter().map(|(_, a)| a).collect())
    } else {
        Err(problems)
    }
}

/// `motcua agency import FILE`: every record checked first, nothing written if one is wrong; then the agencies
/// in one transaction, and each agency that gains a successor in the file merged into it (its open dossiers move,
/// with history) in a transaction of its own, exactly as the administrators' page does.
pub async fn import(store: &Store, file: &Path, dry_run: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Other(format!("không đọc được tệp {}: {e}", file.display())))?;
    let existing = store.agencies.list().await.map_err(storage_failure)?;
    let agencies = check_file(&text, &existing).map_err(|problems| {
        Failure::Other(format!(
            "Tệp {} có {} lỗi, chưa nhập gì:\n{}",
            file.display(),
            problems.len(),
            problems.join("\n")
        ))
    })?;
    // mergers are run by `merge`, after the agencies themselves are written without the new successor
    let mut mergers = Vec::new();
    let mut plain = Vec::new();
    for a in agencies {
        let before = existing.iter().find(|e| e.code == a.code);
        match (&a.successor, a.valid_until) {
            (Some(successor), Some(until)) if before.is_none_or(|b| b.successor.is_none()) => {
                let effective = until.next_day().ok_or_else(|| {
                    Failure::Other(format!(
                        "cơ quan {}: ngày hết hiệu lực không hợp lệ",
                        a.code
                    ))
                })?;
                mergers.push(Merger {
                    retired: a.code.clone(),
                    successor: successor.clone(),
                    effective,
                    at: OffsetDateTime::now_utc(),
                    actor: "cli".into(),
                });
                plain.push(Agency {
                    successor: None,
                    valid_until: before.and_then(|b| b.valid_until),
                    ..a
                });
            }
            _ => plain.push(a),
        }
    }
    let new = plain
        .iter()
        .filter(|a| !existing.iter().any(|e| e.code == a.code))
        .count();
    println!(
        "{} cơ quan: {new} mới, {} cập nhật, {} sáp nhập.",
        plain.len(),
        plain.len() - new,
        mergers.len()
    );
    if dry_run {
        println!("Chạy thử: chưa ghi gì.");
        return Ok(());
    }
    store
        .agencies
        .upsert(&plain)
        .await
        .map_err(storage_failure)?;
    for m in &mergers {
        let report = store.agencies.merge(m).await.map_err(storage_failure)?;
        print_merge(m, &report);
    }
    Ok(())
}

/// `motcua agency merge`: one agency into its successor from a date on.
pub async fn merge(
    store: &Store,
    retired: &str,
    successor: &str,
    effective: &str,
) -> Result<(), Failure> {
    let parse = |flag: &str, code: &str| {
        AgencyCode::parse(code).map_err(|e| Failure::Other(format!("{flag}: {e}")))
    };
    let effective = motcua_domain::form::parse_date(effective).ok_or_else(|| {
        Failure::Other("--date: nhập ngày có thật, dạng ngày/tháng/năm, ví dụ 01/07/2025".into())
    })?;
    let merger = Merger {
        retired: parse("--from", retired)?,
        successor: parse("--into", successor)?,
        effective,
        at: OffsetDateTime::now_utc(),
        actor: "cli".into(),
    };
    let report = store
        .agencies
        .merge(&merger)
        .await
        .map_err(storage_failure)?;
    print_merge(&merger, &report);
    Ok(())
}

fn print_merge(m: &Merger, r: &MergeReport) {
    println!(
        "Sáp nhập {} vào {} từ {}: chuyển {} hồ sơ đang giải quyết, {} hồ sơ nháp, {} đơn vị trực thuộc; \
         {} mức độ dịch vụ chuyển theo.",
        m.retired,
        m.successor,
        vntime::format_date(m.effective),
        r.moved.len(),
        r.drafts_moved,
        r.children_moved,
        r.levels_carried.len()
    );
    for l in &r.levels_to_review {
        println!(
            "  Cần xem lại mức độ: thủ tục {} ({}) — cơ quan kế thừa đã có mức độ khác.",
            l.procedure, l.case
        );
    }
    for (p, c) in &r.workflows_to_review {
        println!(
            "  Cần xem lại quy trình: thủ tục {p} ({c}) có bước do cơ quan đã sáp nhập thực hiện."
        );
    }
    if r.grants_to_review > 0 {
        println!(
            "  Cần xem lại {} vai trò cán bộ tại cơ quan đã sáp nhập.",
            r.grants_to_review
        );
    }
}
