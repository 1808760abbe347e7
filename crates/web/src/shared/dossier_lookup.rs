//! Finding a dossier by its code and the applicant's phone or identity number, limited per address: the public
//! lookup page and the API's lookup answer through these functions, with the same messages, the same limit and
//! the same privacy (a dossier is found only when both match; the answer never says which one did not).

use time::{Duration, OffsetDateTime};

use motcua_domain::{Dossier, DossierCode, HistoryEvent, PersonalId, Phone};

use crate::{AppError, AppState, session::start_of};

/// Lookups an address may make per minute.
pub(crate) const LOOKUPS_PER_MINUTE: u32 = 10;

/// The dossier code as typed (spaces and case forgiven), or what is wrong with it.
pub(crate) fn read_code(typed: &str) -> Result<DossierCode, &'static str> {
    if typed.trim().is_empty() {
        return Err("Nhập mã hồ sơ");
    }
    DossierCode::parse(&typed.to_uppercase().replace(' ', ""))
        .map_err(|_| "Mã hồ sơ không đúng dạng, ví dụ 000.00.06.H56-261128-0001")
}

/// What proves the asker is the applicant: the phone or the identity number given with the dossier.
pub(crate) struct Proof {
    phone: Option<Phone>,
    id: Option<PersonalId>,
}

/// The proof as typed, or what is wrong with it.
pub(crate) fn read_proof(typed: &str) -> Result<Proof, &'static str> {
    if typed.trim().is_empty() {
        return Err("Nhập số điện thoại hoặc số định danh cá nhân của người nộp hồ sơ");
    }
    let proof = Proof {
        phone: Phone::parse(typed).ok(),
        id: PersonalId::parse(typed).ok(),
    };
    if proof.phone.is_none() && proof.id.is_none() {
        return Err("Nhập số điện thoại di động (10 số) hoặc số định danh cá nhân (12 số)");
    }
    Ok(proof)
}

pub(crate) enum Found {
    /// The dossier and its history (statuses and times; reasons are the caller's to leave out).
    Dossier(Box<Dossier>, Vec<HistoryEvent>),
    /// No dossier has this code with this proof.
    Nothing,
    /// This address asked too often this minute.
    TooMany,
}

/// Look the dossier up for the address `ip_key` (counted against its limit first).
pub(crate) async fn find(
    state: &AppState,
    ip_key: &str,
    code: &DossierCode,
    proof: &Proof,
) -> Result<Found, AppError> {
    let now = OffsetDateTime::now_utc();
    let hits = state
        .store
        .rate_limits
        .hit(&format!("lookup:{ip_key}"), start_of(now, Duration::MINUTE))
        .await?;
    if hits > LOOKUPS_PER_MINUTE {
        return Ok(Found::TooMany);
    }
    let Some(d) = state.store.dossiers.get_by_code(code).await? else {
        return Ok(Found::Nothing);
    };
    let details = state.store.submissions.online_details(d.id).await?;
    let matches = details.is_some_and(|x| {
        proof
            .phone
            .as_ref()
            .is_some_and(|p| x.applicant_phone.as_deref() == Some(p.as_str()))
            || proof
                .id
                .as_ref()
                .is_some_and(|p| x.applicant_personal_id.as_deref() == Some(p.as_str()))
    });
    if !matches {
        return Ok(Found::Nothing);
    }
    let events = state.store.dossiers.history(d.id).await?;
    Ok(Found::Dossier(Box::new(d), events))
}
