//! The storage contract: every test here runs against a temporary SQLite file, and against PostgreSQL when
//! `MOTCUA_TEST_POSTGRES_URL` is set (each test in its own schema). Both backends must pass the same suite.

use std::collections::HashSet;
use std::sync::Arc;

use motcua_domain::{
    AgencyCode, CaseKey, Channel, DossierCode, DossierId, DossierStatus, HistoryEvent, NewDossier,
    NonEmptyText, OnlineServiceLevel, ProcedureCode, ServiceLevelAssignment, Transition,
};
use motcua_store::{CatalogueBatch, DossierQuery, ImportReport, Store, StoreError};
use motcua_testkit::fixtures::{self, AGENCY, OTHER_AGENCY, PROCEDURE};
use time::{OffsetDateTime, macros::date, macros::datetime};

/// Generates one `#[tokio::test]` per backend for each contract function.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let t = motcua_testkit::sqlite_store().await;
                    super::$name(&t.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(t) = motcua_testkit::postgres_store().await else { return };
                    super::$name(&t.store).await;
                }
            )*
        }
    };
}

contract!(
    agencies_round_trip_and_update_in_place,
    an_agency_batch_with_a_bad_reference_saves_nothing,
    fields_round_trip,
    a_changed_procedure_gets_a_new_version_and_the_old_one_stays,
    service_levels_keep_their_history,
    fifty_concurrent_reservations_give_fifty_consecutive_codes,
    a_new_day_restarts_the_counter_and_agencies_count_apart,
    a_created_dossier_has_its_first_history_event,
    a_transition_changes_status_and_appends_a_chained_event,
    a_stale_transition_is_refused_and_changes_nothing,
    a_history_event_and_its_state_change_commit_together_or_not_at_all,
    a_duplicate_dossier_code_is_refused_and_leaves_nothing,
    of_two_concurrent_transitions_exactly_one_succeeds,
    a_dossier_must_name_an_existing_procedure_version,
    a_migrated_database_is_ready,
    an_import_is_all_or_nothing,
    a_repeated_import_changes_nothing_and_a_changed_record_gets_a_new_version,
    the_most_used_procedures_are_counted_from_recent_dossiers,
    an_account_is_found_by_each_of_its_login_names,
    a_taken_identity_number_phone_or_email_is_a_conflict_and_saves_nothing,
    grants_are_replaced_whole_and_must_name_known_agencies,
    sessions_are_found_by_token_hash_touched_and_ended,
    the_audit_trail_keeps_events_newest_first,
    rate_limit_windows_count_every_hit_even_concurrently,
    repeated_login_failures_lock_one_address_with_back_off,
    using_a_reset_link_or_changing_the_password_ends_every_other_link,
    the_audit_trail_is_paged_and_filtered_by_actor_kind_and_date,
    a_one_time_link_works_once_for_its_purpose_until_it_expires,
    contact_data_updates_keep_login_names_unique,
    a_draft_keeps_what_was_typed_until_it_is_submitted,
    a_submission_commits_dossier_files_event_and_mail_together,
    submitting_one_draft_twice_or_at_once_gives_one_dossier,
    uploads_respect_the_dossier_limit_and_stale_ones_are_found,
    outbox_jobs_are_claimed_once_retried_and_completed,
    a_supplement_claims_its_files_with_the_transition,
    the_reception_queue_lists_an_agencys_waiting_dossiers_oldest_first,
    calendar_days_round_trip_and_replace_by_date,
    a_counter_intake_is_created_and_received_in_one_commit,
    a_reminder_is_queued_once_however_many_nodes_try,
    the_emails_to_an_address_are_listed_newest_first_with_whether_they_went,
    a_visitor_counts_once_a_day_whichever_node_saw_them,
    handled_dossiers_are_listed_newest_approval_first_with_their_filters,
    statistics_count_each_dossier_where_it_belongs,
    monthly_statistics_equal_a_direct_count_after_random_histories,
    workflows_are_versioned_per_case,
    a_dossier_moves_through_its_steps_one_hand_off_at_a_time,
    of_two_concurrent_hand_offs_exactly_one_succeeds,
    a_result_is_recorded_and_corrected,
    a_fee_is_paid_once_and_the_dossier_resumes,
    of_two_racing_notifications_one_settles_the_payment,
    a_dossier_is_rated_once_and_counted_for_its_agency,
    a_dossier_keeps_one_rating_code,
    a_delivery_by_post_moves_one_stage_at_a_time,
    searches_with_few_results_are_counted_per_query,
    a_merger_moves_open_dossiers_once_with_history,
    a_merger_is_refused_when_it_cannot_hold,
    the_synonym_table_is_replaced_whole_and_every_node_notices,
    a_version_saved_ahead_applies_from_its_day,
    a_content_page_is_replaced_whole,
    an_article_is_read_in_its_approved_version_while_editors_write_the_next,
    a_reader_votes_once_per_article_and_an_address_once_a_day,
    a_comment_waits_for_an_editor_and_its_writer_is_told,
    a_site_key_is_made_once_for_every_node,
    api_clients_keep_keys_as_hashes_and_log_calls,
    changed_dossiers_are_read_page_by_page_without_missing_one,
    a_change_is_queued_for_each_subscription_that_wants_it,
    an_apology_is_announced_and_a_merger_is_not,
    personal_tokens_are_kept_as_hashes_and_revoked,
);

fn code(text: &str) -> AgencyCode {
    AgencyCode::parse(text).unwrap()
}

async fn agencies_round_trip_and_update_in_place(store: &Store) {
    let mut child = fixtures::agency("000.17.22.H56", "UBND xã Hòa Bình");
    child.level = motcua_domain::AgencyLevel::Commune;
    // the parent comes later in the same batch
    child.parent = Some(code("000.00.00.H56"));
    let parent = fixtures::agency("000.00.00.H56", "UBND tỉnh");
    store
        .agencies
        .upsert(&[child.clone(), parent.clone()])
        .await
        .unwrap();

    assert_eq!(
        store.agencies.get(&child.code).await.unwrap(),
        Some(child.clone())
    );
    assert_eq!(
        store.agencies.list().await.unwrap(),
        vec![parent.clone(), child.clone()]
    );
    assert_eq!(
        store.agencies.get(&code("000.99.99.H56")).await.unwrap(),
        None
    );

    let mut renamed = child.clone();
    renamed.name = NonEmptyText::parse("UBND phường Hòa Bình").unwrap();
    renamed.valid_until = Some(date!(2025 - 06 - 30));
    store.agencies.upsert(&[renamed.clone()]).await.unwrap();
    assert_eq!(
        store.agencies.get(&child.code).await.unwrap(),
        Some(renamed)
    );
    assert_eq!(store.agencies.list().await.unwrap().len(), 2);
}

async fn an_agency_batch_with_a_bad_reference_saves_nothing(store: &Store) {
    let ok = fixtures::agency("000.00.06.H56", "Sở Tư pháp");
    let mut orphan = fixtures::agency("000.17.22.H56", "UBND xã");
    orphan.parent = Some(code("000.00.99.H56"));
    let err = store.agencies.upsert(&[ok, orphan]).await.unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    assert!(store.agencies.list().await.unwrap().is_empty());
}

async fn fields_round_trip(store: &Store) {
    let fields = [
        fixtures::field("XAYDUNG", "Xây dựng"),
        fixtures::field("HOTICH", "Hộ tịch"),
    ];
    store.fields.upsert(&fields).await.unwrap();
    store
        .fields
        .upsert(&[fixtures::field("DATDAI", "Đất đai")])
        .await
        .unwrap();
    let names: Vec<String> = store
        .fields
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name.to_string())
        .collect();
    // ordered by name (byte order of the NFC text)
    assert_eq!(names, ["Hộ tịch", "Xây dựng", "Đất đai"]);
}

async fn a_changed_procedure_gets_a_new_version_and_the_old_one_stays(store: &Store) {
    fixtures::seed_minimal(store).await;
    let code = ProcedureCode::parse(PROCEDURE).unwrap();
    let before = store.catalogue.catalogue_version().await.unwrap();
    let v1 = store.catalogue.get_procedure(&code).await.unwrap().unwrap();
    assert_eq!(v1.version, 1);

    // saving the same record again changes nothing
    let same = store
        .catalogue
        .save_procedure(&v1.procedure, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(same, 1);
    assert_eq!(store.catalogue.catalogue_version().await.unwrap(), before);

    let mut changed = v1.procedure.clone();
    changed.cases[0].time_limits[0].limit.value = 3;
    let v2 = store
        .catalogue
        .save_procedure(&changed, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(v2, 2);
    assert!(store.catalogue.catalogue_version().await.unwrap() > before);

    let current = store.catalogue.get_procedure(&code).await.unwrap().unwrap();
    assert_eq!((current.version, &current.procedure), (2, &changed));
    assert_eq!(
        store
            .catalogue
            .get_procedure_version(&code, 1)
            .await
            .unwrap(),
        Some(v1.procedure)
    );
    assert_eq!(
        store
            .catalogue
            .get_procedure_version(&code, 3)
            .await
            .unwrap(),
        None
    );
    let listed = store.catalogue.list_procedures().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].version, 2);
    // the versions, oldest first, with when each was made; an unpublished record is one more version
    let mut hidden = changed.clone();
    hidden.published = false;
    assert_eq!(
        store
            .catalogue
            .save_procedure(&hidden, OffsetDateTime::now_utc())
            .await
            .unwrap(),
        3
    );
    let versions = store.catalogue.versions(&code).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(versions.windows(2).all(|w| w[0].made_at <= w[1].made_at));
    assert!(
        !store
            .catalogue
            .get_procedure(&code)
            .await
            .unwrap()
            .unwrap()
            .procedure
            .published
    );
    assert!(
        store
            .catalogue
            .versions(&ProcedureCode::parse("9.999999").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn service_levels_keep_their_history(store: &Store) {
    fixtures::seed_minimal(store).await;
    let assignment = |level, from| ServiceLevelAssignment {
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: code(AGENCY),
        level,
        effective_from: from,
    };
    store
        .catalogue
        .set_service_level(&assignment(
            OnlineServiceLevel::Level2,
            date!(2024 - 01 - 01),
        ))
        .await
        .unwrap();
    store
        .catalogue
        .set_service_level(&assignment(
            OnlineServiceLevel::Level4,
            date!(2025 - 01 - 01),
        ))
        .await
        .unwrap();
    let mut other = assignment(OnlineServiceLevel::Level3, date!(2024 - 06 - 01));
    other.agency = code(OTHER_AGENCY);
    store.catalogue.set_service_level(&other).await.unwrap();

    let code_ = ProcedureCode::parse(PROCEDURE).unwrap();
    assert!(
        store
            .catalogue
            .service_levels(&code_, date!(2023 - 12 - 31))
            .await
            .unwrap()
            .is_empty()
    );
    let mid = store
        .catalogue
        .service_levels(&code_, date!(2024 - 12 - 31))
        .await
        .unwrap();
    assert_eq!(
        mid,
        vec![
            assignment(OnlineServiceLevel::Level2, date!(2024 - 01 - 01)),
            other.clone()
        ]
    );
    let now = store
        .catalogue
        .service_levels(&code_, date!(2026 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(
        now,
        vec![
            assignment(OnlineServiceLevel::Level4, date!(2025 - 01 - 01)),
            other.clone()
        ]
    );
    // the whole history, by case, agency and start
    assert_eq!(
        store.catalogue.level_history(&code_).await.unwrap(),
        vec![
            assignment(OnlineServiceLevel::Level2, date!(2024 - 01 - 01)),
            assignment(OnlineServiceLevel::Level4, date!(2025 - 01 - 01)),
            other
        ]
    );
}

async fn fifty_concurrent_reservations_give_fifty_consecutive_codes(store: &Store) {
    fixtures::seed_minimal(store).await;
    let codes = Arc::new(store.codes.clone());
    let day = date!(2023 - 10 - 27);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let codes = codes.clone();
            tokio::spawn(async move { codes.reserve(&code(AGENCY), day).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        let reserved = task.await.unwrap().unwrap();
        assert_eq!(reserved.agency(), &code(AGENCY));
        assert_eq!(reserved.day(), day);
        numbers.push(reserved.number());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
    let next = store.codes.reserve(&code(AGENCY), day).await.unwrap();
    assert_eq!(next.to_string(), "000.00.06.H56-231027-0051");
}

async fn a_new_day_restarts_the_counter_and_agencies_count_apart(store: &Store) {
    fixtures::seed_minimal(store).await;
    let first = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    let second = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    let next_day = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 28))
        .await
        .unwrap();
    let other = store
        .codes
        .reserve(&code(OTHER_AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    assert_eq!(first.to_string(), "000.00.06.H56-231027-0001");
    assert_eq!(second.to_string(), "000.00.06.H56-231027-0002");
    assert_eq!(next_day.to_string(), "000.00.06.H56-231028-0001");
    assert_eq!(other.to_string(), "000.00.07.H56-231027-0001");
    let unknown = store
        .codes
        .reserve(&code("000.00.99.H56"), date!(2023 - 10 - 27))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::Constraint(_))),
        "{unknown:?}"
    );
}

fn new_dossier(code: DossierCode) -> NewDossier {
    NewDossier {
        id: DossierId::new(),
        code,
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        channel: Channel::Online,
        status: DossierStatus::Submitted,
        applicant_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        created_at: datetime!(2023-10-27 02:32:10.123456789 UTC),
        actor: "citizen:1".into(),
    }
}

async fn submitted_dossier(store: &Store) -> motcua_domain::Dossier {
    fixtures::seed_minimal(store).await;
    let code = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    store.dossiers.create(&new_dossier(code)).await.unwrap()
}

async fn a_created_dossier_has_its_first_history_event(store: &Store) {
    let dossier = submitted_dossier(store).await;
    assert_eq!(dossier.status, DossierStatus::Submitted);
    assert_eq!(dossier.agency, code(AGENCY));
    assert_eq!(dossier.code.to_string(), "000.00.06.H56-231027-0001");
    // stored to the microsecond
    assert_eq!(
        dossier.created_at,
        datetime!(2023-10-27 02:32:10.123456 UTC)
    );
    assert_eq!(
        store.dossiers.get(dossier.id).await.unwrap(),
        Some(dossier.clone())
    );
    assert_eq!(
        store.dossiers.get_by_code(&dossier.code).await.unwrap(),
        Some(dossier.clone())
    );
    assert_eq!(store.dossiers.get(DossierId::new()).await.unwrap(), None);

    let history = store.dossiers.history(dossier.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].seq, history[0].from, history[0].to),
        (1, None, DossierStatus::Submitted)
    );
    assert_eq!(history[0].actor, "citizen:1");
    assert_eq!(HistoryEvent::verify_chain(&history), Ok(()));
}

async fn a_transition_changes_status_and_appends_a_chained_event(store: &Store) {
    let dossier = submitted_dossier(store).await;
    let due = datetime!(2023-11-03 10:00 UTC);
    let receive = Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        datetime!(2023-10-27 03:00 UTC),
        "officer:7",
    )
    .unwrap()
    .with_due_at(due);
    let event = store.dossiers.record_transition(&receive).await.unwrap();
    assert_eq!(
        (event.seq, event.from, event.to),
        (2, Some(DossierStatus::Submitted), DossierStatus::Received)
    );

    let process = Transition::new(
        dossier.id,
        DossierStatus::Received,
        DossierStatus::Processing,
        datetime!(2023-10-27 04:00 UTC),
        "officer:7",
    )
    .unwrap()
    .with_reason("Chuyển phòng chuyên môn");
    store.dossiers.record_transition(&process).await.unwrap();

    let now = store.dossiers.get(dossier.id).await.unwrap().unwrap();
    assert_eq!(now.status, DossierStatus::Processing);
    assert_eq!(
        now.due_at,
        Some(due),
        "a transition without a new date keeps the appointment"
    );
    assert_eq!(now.updated_at, datetime!(2023-10-27 04:00 UTC));

    let history = store.dossiers.history(dossier.id).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.to).collect::<Vec<_>>(),
        [
            DossierStatus::Submitted,
            DossierStatus::Received,
            DossierStatus::Processing
        ]
    );
    assert_eq!(history[1].due_at, Some(due));
    assert_eq!(
        history[2].reason.as_deref(),
        Some("Chuyển phòng chuyên môn")
    );
    assert_eq!(
        HistoryEvent::verify_chain(&history),
        Ok(()),
        "the stored chain verifies after a round trip"
    );
}

async fn a_stale_transition_is_refused_and_changes_nothing(store: &Store) {
    let dossier = submitted_dossier(store).await;
    // the caller believes the dossier is already received
    let stale = Transition::new(
        dossier.id,
        DossierStatus::Received,
        DossierStatus::Processing,
        OffsetDateTime::now_utc(),
        "officer:7",
    )
    .unwrap();
    let err = store.dossiers.record_transition(&stale).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("Mới đăng ký")),
        "{err:?}"
    );
    assert_eq!(
        store.dossiers.get(dossier.id).await.unwrap(),
        Some(dossier.clone())
    );
    assert_eq!(store.dossiers.history(dossier.id).await.unwrap().len(), 1);

    let missing = Transition::new(
        DossierId::new(),
        DossierStatus::Submitted,
        DossierStatus::Received,
        OffsetDateTime::now_utc(),
        "officer:7",
    )
    .unwrap();
    assert!(matches!(
        store.dossiers.record_transition(&missing).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_history_event_and_its_state_change_commit_together_or_not_at_all(store: &Store) {
    let dossier = submitted_dossier(store).await;
    let first = store.dossiers.history(dossier.id).await.unwrap().remove(0);
    // the status update succeeds, then the event insert fails on the taken event id: all must roll back
    let mut receive = Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        OffsetDateTime::now_utc(),
        "officer:7",
    )
    .unwrap()
    .with_due_at(datetime!(2023-11-03 10:00 UTC));
    receive.event_id = first.id;
    let err = store
        .dossiers
        .record_transition(&receive)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let after = store.dossiers.get(dossier.id).await.unwrap().unwrap();
    assert_eq!(after.status, DossierStatus::Submitted);
    assert_eq!(after.due_at, None);
    assert_eq!(after, dossier);
    assert_eq!(
        store.dossiers.history(dossier.id).await.unwrap(),
        vec![first]
    );

    // and with a fresh event id the same change goes through
    receive.event_id = uuid::Uuid::now_v7();
    store.dossiers.record_transition(&receive).await.unwrap();
    assert_eq!(
        store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::Received
    );
}

async fn a_duplicate_dossier_code_is_refused_and_leaves_nothing(store: &Store) {
    let dossier = submitted_dossier(store).await;
    let twin = new_dossier(dossier.code.clone());
    let err = store.dossiers.create(&twin).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.dossiers.get(twin.id).await.unwrap(), None);
    assert!(store.dossiers.history(twin.id).await.unwrap().is_empty());
}

async fn of_two_concurrent_transitions_exactly_one_succeeds(store: &Store) {
    let dossier = submitted_dossier(store).await;
    let attempt = |to: DossierStatus| {
        let dossiers = store.dossiers.clone();
        let t = Transition::new(
            dossier.id,
            DossierStatus::Submitted,
            to,
            OffsetDateTime::now_utc(),
            "officer",
        )
        .unwrap()
        .with_reason("x");
        tokio::spawn(async move { dossiers.record_transition(&t).await })
    };
    let results = [
        attempt(DossierStatus::Received),
        attempt(DossierStatus::Refused),
        attempt(DossierStatus::SupplementRequested),
    ];
    let mut ok = 0;
    for r in results {
        match r.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    let history = store.dossiers.history(dossier.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(HistoryEvent::verify_chain(&history), Ok(()));
}

async fn a_dossier_must_name_an_existing_procedure_version(store: &Store) {
    fixtures::seed_minimal(store).await;
    let code = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    let mut d = new_dossier(code);
    d.procedure_version = 9;
    let err = store.dossiers.create(&d).await.unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    assert!(store.dossiers.history(d.id).await.unwrap().is_empty());
}

async fn a_migrated_database_is_ready(store: &Store) {
    store.health.ping().await.unwrap();
    assert_eq!(
        store.health.pending_migrations().await.unwrap(),
        Vec::<String>::new()
    );
    let ids: HashSet<_> = (0..100).map(|_| DossierId::new()).collect();
    assert_eq!(ids.len(), 100);
}

fn batch() -> CatalogueBatch {
    CatalogueBatch {
        agencies: vec![
            fixtures::agency(AGENCY, "Sở Tư pháp"),
            fixtures::agency(OTHER_AGENCY, "Sở Xây dựng"),
        ],
        fields: vec![fixtures::field("HOTICH", "Hộ tịch")],
        procedures: vec![
            fixtures::procedure("1.001193", "Đăng ký khai sinh", AGENCY),
            fixtures::procedure("1.000894", "Đăng ký kết hôn", AGENCY),
        ],
        service_levels: vec![ServiceLevelAssignment {
            procedure: ProcedureCode::parse("1.001193").unwrap(),
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: code(AGENCY),
            level: OnlineServiceLevel::Level4,
            effective_from: date!(2024 - 01 - 01),
        }],
    }
}

async fn an_import_is_all_or_nothing(store: &Store) {
    let mut bad = batch();
    // the last thing written refers to an agency that does not exist
    bad.service_levels[0].agency = code("000.99.99.H56");
    let err = store
        .catalogue
        .import(&bad, OffsetDateTime::now_utc())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    assert!(store.agencies.list().await.unwrap().is_empty());
    assert!(store.fields.list().await.unwrap().is_empty());
    assert!(store.catalogue.list_procedures().await.unwrap().is_empty());
    assert_eq!(store.catalogue.catalogue_version().await.unwrap(), 0);
}

async fn a_repeated_import_changes_nothing_and_a_changed_record_gets_a_new_version(store: &Store) {
    let first = store
        .catalogue
        .import(&batch(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        first,
        ImportReport {
            created: 2,
            updated: 0,
            unchanged: 0
        }
    );
    let again = store
        .catalogue
        .import(&batch(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportReport {
            created: 0,
            updated: 0,
            unchanged: 2
        }
    );
    assert_eq!(
        store.catalogue.list_procedures().await.unwrap().len(),
        2,
        "never duplicated"
    );

    let mut changed = batch();
    changed.procedures[1].name = NonEmptyText::parse("Đăng ký kết hôn (sửa đổi)").unwrap();
    let report = store
        .catalogue
        .import(&changed, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 0,
            updated: 1,
            unchanged: 1
        }
    );
    let marriage = store
        .catalogue
        .get_procedure(&ProcedureCode::parse("1.000894").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(marriage.version, 2);
    assert_eq!(
        marriage.procedure.name.as_str(),
        "Đăng ký kết hôn (sửa đổi)"
    );
    let old = store
        .catalogue
        .get_procedure_version(&marriage.procedure.code, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old.name.as_str(),
        "Đăng ký kết hôn",
        "the old version stays for dossiers received under it"
    );
}

async fn the_most_used_procedures_are_counted_from_recent_dossiers(store: &Store) {
    store
        .catalogue
        .import(&batch(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    let make = |procedure: &str, at: OffsetDateTime| {
        let procedure = procedure.to_string();
        async move {
            let code = store
                .codes
                .reserve(&code(AGENCY), date!(2026 - 01 - 05))
                .await
                .unwrap();
            let mut d = new_dossier(code);
            d.procedure = ProcedureCode::parse(&procedure).unwrap();
            d.created_at = at;
            store.dossiers.create(&d).await.unwrap();
        }
    };
    make("1.001193", datetime!(2026-01-05 02:00 UTC)).await;
    make("1.000894", datetime!(2026-01-05 03:00 UTC)).await;
    make("1.000894", datetime!(2026-01-06 03:00 UTC)).await;
    // too old to count
    make("1.001193", datetime!(2024-01-01 03:00 UTC)).await;
    make("1.001193", datetime!(2024-01-02 03:00 UTC)).await;
    let used = store
        .dossiers
        .most_used_procedures(datetime!(2025-01-01 00:00 UTC), 10)
        .await
        .unwrap();
    let shown: Vec<(String, u64)> = used.into_iter().map(|(c, n)| (c.to_string(), n)).collect();
    assert_eq!(
        shown,
        [("1.000894".to_string(), 2), ("1.001193".to_string(), 1)]
    );
    let top = store
        .dossiers
        .most_used_procedures(datetime!(2020-01-01 00:00 UTC), 1)
        .await
        .unwrap();
    assert_eq!(top[0].0.as_str(), "1.001193");
}

fn citizen() -> motcua_domain::Account {
    use motcua_domain::{Account, AccountId, AccountKind, Email, PersonalId, Phone};
    Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: Some(PersonalId::parse("001099012345").unwrap()),
        birth_date: Some(date!(1990 - 05 - 17)),
        phone: Some(Phone::parse("0912345678").unwrap()),
        email: Some(Email::parse("an@example.vn").unwrap()),
        address: Some("Số 5 ngõ 12, phường Trung Tâm".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        email_verified_at: None,
        disabled: false,
        created_at: datetime!(2026-01-05 02:00:00.123456 UTC),
        grants: vec![],
    }
}

async fn an_account_is_found_by_each_of_its_login_names(store: &Store) {
    use motcua_domain::LoginName;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    assert_eq!(store.accounts.get(a.id).await.unwrap(), Some(a.clone()));
    for name in ["001 099 012 345", "+84 912 345 678", "AN@example.vn"] {
        let found = store
            .accounts
            .find_by_login(&LoginName::parse(name).unwrap())
            .await
            .unwrap();
        assert_eq!(found.map(|f| f.id), Some(a.id), "{name}");
    }
    let nobody = LoginName::parse("0987654321").unwrap();
    assert_eq!(store.accounts.find_by_login(&nobody).await.unwrap(), None);
    store
        .accounts
        .set_password_hash(a.id, "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(
        store
            .accounts
            .get(a.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    let missing = motcua_domain::AccountId::new();
    assert!(matches!(
        store.accounts.set_password_hash(missing, "x").await,
        Err(StoreError::NotFound)
    ));
}

async fn a_taken_identity_number_phone_or_email_is_a_conflict_and_saves_nothing(store: &Store) {
    fixtures::seed_minimal(store).await;
    let first = citizen();
    store.accounts.create(&first).await.unwrap();
    let mut same_id = citizen();
    same_id.id = motcua_domain::AccountId::new();
    same_id.phone = None;
    same_id.email = None;
    same_id.grants = vec![motcua_domain::RoleGrant::parse(&format!("reception@{AGENCY}")).unwrap()];
    let err = store.accounts.create(&same_id).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.accounts.get(same_id.id).await.unwrap(), None);
    let mut same_email = citizen();
    same_email.id = motcua_domain::AccountId::new();
    same_email.personal_id = None;
    same_email.phone = None;
    assert!(matches!(
        store.accounts.create(&same_email).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn grants_are_replaced_whole_and_must_name_known_agencies(store: &Store) {
    use motcua_domain::{AccountKind, RoleGrant};
    fixtures::seed_minimal(store).await;
    let mut officer = citizen();
    officer.kind = AccountKind::Officer;
    officer.personal_id = None;
    officer.grants = vec![
        RoleGrant::parse(&format!("reception@{AGENCY}")).unwrap(),
        RoleGrant::parse(&format!("leader@{OTHER_AGENCY}+")).unwrap(),
    ];
    store.accounts.create(&officer).await.unwrap();
    assert_eq!(
        store
            .accounts
            .get(officer.id)
            .await
            .unwrap()
            .unwrap()
            .grants,
        officer.grants
    );

    let new = vec![RoleGrant::parse(&format!("specialist@{AGENCY}")).unwrap()];
    store.accounts.set_grants(officer.id, &new).await.unwrap();
    assert_eq!(
        store
            .accounts
            .get(officer.id)
            .await
            .unwrap()
            .unwrap()
            .grants,
        new
    );

    let unknown = vec![RoleGrant::parse("editor@000.99.99.H56").unwrap()];
    let err = store
        .accounts
        .set_grants(officer.id, &unknown)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    assert_eq!(
        store
            .accounts
            .get(officer.id)
            .await
            .unwrap()
            .unwrap()
            .grants,
        new,
        "nothing changed"
    );
    let mut stranger = citizen();
    stranger.id = motcua_domain::AccountId::new();
    stranger.personal_id = None;
    stranger.phone = None;
    stranger.email = Some(motcua_domain::Email::parse("other@example.vn").unwrap());
    stranger.grants = unknown;
    assert!(matches!(
        store.accounts.create(&stranger).await,
        Err(StoreError::Constraint(_))
    ));
    assert_eq!(
        store.accounts.get(stranger.id).await.unwrap(),
        None,
        "the account is not left without its grants"
    );
}

async fn sessions_are_found_by_token_hash_touched_and_ended(store: &Store) {
    use motcua_domain::{Session, SessionKey};
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let session = |token: &str| Session {
        key: SessionKey::of_token(token),
        account: a.id,
        created_at: datetime!(2026-01-05 01:00 UTC),
        last_seen_at: datetime!(2026-01-05 01:00 UTC),
        expires_at: datetime!(2026-01-05 09:00 UTC),
    };
    store.sessions.create(&session("one")).await.unwrap();
    store.sessions.create(&session("two")).await.unwrap();
    assert_eq!(
        store
            .sessions
            .find(&SessionKey::of_token("one"))
            .await
            .unwrap(),
        Some(session("one"))
    );
    assert_eq!(
        store
            .sessions
            .find(&SessionKey::of_token("three"))
            .await
            .unwrap(),
        None
    );

    store
        .sessions
        .touch(
            &SessionKey::of_token("one"),
            datetime!(2026-01-05 02:00 UTC),
        )
        .await
        .unwrap();
    // a late, older touch from another node never moves activity backwards
    store
        .sessions
        .touch(
            &SessionKey::of_token("one"),
            datetime!(2026-01-05 01:30 UTC),
        )
        .await
        .unwrap();
    let touched = store
        .sessions
        .find(&SessionKey::of_token("one"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, datetime!(2026-01-05 02:00 UTC));
    assert_eq!(
        touched.expires_at,
        datetime!(2026-01-05 09:00 UTC),
        "activity never extends the absolute end"
    );

    store
        .sessions
        .delete(&SessionKey::of_token("one"))
        .await
        .unwrap();
    assert_eq!(
        store
            .sessions
            .find(&SessionKey::of_token("one"))
            .await
            .unwrap(),
        None
    );
    store.sessions.create(&session("three")).await.unwrap();
    assert_eq!(store.sessions.delete_for_account(a.id).await.unwrap(), 2);
    assert_eq!(
        store
            .sessions
            .find(&SessionKey::of_token("two"))
            .await
            .unwrap(),
        None
    );
}

async fn the_audit_trail_keeps_events_newest_first(store: &Store) {
    use motcua_domain::{AuditEvent, AuditKind};
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let event = |kind, minute: u8, success| AuditEvent {
        id: uuid::Uuid::now_v7(),
        at: datetime!(2026-01-05 01:00 UTC) + time::Duration::minutes(i64::from(minute)),
        kind,
        actor: Some(a.id),
        subject: Some("0xx xxx xxx 345".into()),
        ip: Some("127.0.0.1".into()),
        success,
    };
    let failed = event(AuditKind::LoginFailed, 1, false);
    let ok = event(AuditKind::LoginSucceeded, 2, true);
    let mut anonymous = event(AuditKind::AccessDenied, 3, false);
    anonymous.actor = None;
    for e in [&failed, &ok, &anonymous] {
        store.audit.record(e).await.unwrap();
    }
    assert_eq!(
        store.audit.recent(10).await.unwrap(),
        vec![anonymous.clone(), ok.clone(), failed]
    );
    assert_eq!(store.audit.recent(1).await.unwrap(), vec![anonymous]);
}

async fn rate_limit_windows_count_every_hit_even_concurrently(store: &Store) {
    let minute = datetime!(2026-01-05 02:00 UTC);
    assert_eq!(
        store
            .rate_limits
            .hit("login:ip:1.2.3.4", minute)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .rate_limits
            .hit("login:ip:1.2.3.4", minute)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .rate_limits
            .hit("login:ip:5.6.7.8", minute)
            .await
            .unwrap(),
        1
    );
    let next = minute + time::Duration::minutes(1);
    assert_eq!(
        store
            .rate_limits
            .hit("login:ip:1.2.3.4", next)
            .await
            .unwrap(),
        1,
        "a new window starts at 1"
    );
    let limits = Arc::new(store.rate_limits.clone());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let limits = limits.clone();
            tokio::spawn(async move { limits.hit("burst", minute).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "no hit is lost or counted twice"
    );
}

async fn repeated_login_failures_lock_one_address_with_back_off(store: &Store) {
    use motcua_store::{ANY_ADDRESS, LoginRecord};
    let at = datetime!(2026-01-05 02:00 UTC);
    let lock = |failures: u32| time::Duration::minutes(1 << (failures - 5).min(6));
    let limits = &store.rate_limits;
    assert_eq!(
        limits.login_record("acc-1", "203.0.113.7").await.unwrap(),
        LoginRecord::default()
    );
    for n in 1..=4 {
        let (r, before) = limits
            .login_failed("acc-1", "203.0.113.7", at, 5, lock)
            .await
            .unwrap();
        assert_eq!((r.failures, r.locked_until, before), (n, None, None));
    }
    let (r, before) = limits
        .login_failed("acc-1", "203.0.113.7", at, 5, lock)
        .await
        .unwrap();
    assert_eq!(r.locked_until, Some(at + time::Duration::minutes(1)));
    assert_eq!(before, None, "the fifth attempt itself was not yet locked");
    let (r, before) = limits
        .login_failed("acc-1", "203.0.113.7", at, 5, lock)
        .await
        .unwrap();
    assert_eq!(
        before,
        Some(at + time::Duration::minutes(1)),
        "the sixth sees the lock the fifth set"
    );
    assert_eq!(
        r.locked_until,
        Some(at + time::Duration::minutes(2)),
        "each further failure doubles the lock"
    );
    assert_eq!(r.locked_at(at), r.locked_until);
    assert_eq!(r.locked_at(at + time::Duration::minutes(3)), None);
    // another address, and another subject, are counted apart
    assert_eq!(
        limits.login_record("acc-1", "198.51.100.2").await.unwrap(),
        LoginRecord::default()
    );
    assert_eq!(
        limits.login_record("acc-2", "203.0.113.7").await.unwrap(),
        LoginRecord::default()
    );
    // a success from the usual address clears that pair and the count across addresses, and is remembered
    limits
        .login_failed("acc-1", ANY_ADDRESS, at, 20, lock)
        .await
        .unwrap();
    let later = at + time::Duration::minutes(5);
    limits
        .login_succeeded("acc-1", "198.51.100.2", later)
        .await
        .unwrap();
    assert_eq!(
        limits.login_record("acc-1", "198.51.100.2").await.unwrap(),
        LoginRecord {
            failures: 0,
            locked_until: None,
            last_success_at: Some(later)
        }
    );
    assert_eq!(
        limits
            .login_record("acc-1", ANY_ADDRESS)
            .await
            .unwrap()
            .failures,
        0
    );
    assert_eq!(
        limits
            .login_record("acc-1", "203.0.113.7")
            .await
            .unwrap()
            .failures,
        6,
        "the stranger's address stays counted"
    );
    // a new password clears every lock of the subject, and keeps its usual addresses
    limits.clear_login_failures("acc-1").await.unwrap();
    let r = limits.login_record("acc-1", "203.0.113.7").await.unwrap();
    assert_eq!((r.failures, r.locked_until), (0, None));
    assert_eq!(
        limits
            .login_record("acc-1", "198.51.100.2")
            .await
            .unwrap()
            .last_success_at,
        Some(later)
    );
    // concurrent failures are all counted
    let shared = Arc::new(limits.clone());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let shared = shared.clone();
            tokio::spawn(async move {
                shared
                    .login_failed("acc-3", "203.0.113.7", at, 50, lock)
                    .await
                    .unwrap()
                    .0
                    .failures
            })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=10).collect::<Vec<_>>());
}

async fn using_a_reset_link_or_changing_the_password_ends_every_other_link(store: &Store) {
    use motcua_domain::{SessionKey, TokenPurpose};
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let now = datetime!(2026-01-05 02:00 UTC);
    let valid = now + time::Duration::minutes(30);
    let first = SessionKey::of_token("first");
    let second = SessionKey::of_token("second");
    let verify = SessionKey::of_token("verify");
    for key in [&first, &second] {
        store
            .accounts
            .create_token(key, a.id, TokenPurpose::PasswordReset, valid)
            .await
            .unwrap();
    }
    store
        .accounts
        .create_token(&verify, a.id, TokenPurpose::EmailVerification, valid)
        .await
        .unwrap();
    assert_eq!(
        store
            .accounts
            .consume_token(&second, TokenPurpose::PasswordReset, now)
            .await
            .unwrap(),
        Some(a.id)
    );
    assert_eq!(
        store
            .accounts
            .consume_token(&first, TokenPurpose::PasswordReset, now)
            .await
            .unwrap(),
        None,
        "the earlier link ended when the later one was used"
    );
    assert!(
        store
            .accounts
            .token_usable(&verify, TokenPurpose::EmailVerification, now)
            .await
            .unwrap(),
        "a link for another purpose is not touched"
    );
    let third = SessionKey::of_token("third");
    store
        .accounts
        .create_token(&third, a.id, TokenPurpose::PasswordReset, valid)
        .await
        .unwrap();
    store
        .accounts
        .set_password_hash(a.id, "$argon2id$new")
        .await
        .unwrap();
    assert!(
        !store
            .accounts
            .token_usable(&third, TokenPurpose::PasswordReset, now)
            .await
            .unwrap(),
        "a password change ends the links sent before it"
    );
    // a link mailed to the old address dies when the e-mail changes
    let fourth = SessionKey::of_token("fourth");
    store
        .accounts
        .create_token(&fourth, a.id, TokenPurpose::EmailVerification, valid)
        .await
        .unwrap();
    store
        .accounts
        .update_contact(
            a.id,
            a.phone.as_ref(),
            Some(&motcua_domain::Email::parse("moi@example.vn").unwrap()),
            None,
        )
        .await
        .unwrap();
    assert!(
        !store
            .accounts
            .token_usable(&fourth, TokenPurpose::EmailVerification, now)
            .await
            .unwrap()
    );
}

async fn the_audit_trail_is_paged_and_filtered_by_actor_kind_and_date(store: &Store) {
    use motcua_domain::{AuditEvent, AuditKind};
    use motcua_store::AuditFilter;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let start = datetime!(2026-01-05 01:00 UTC);
    let mut all = Vec::new();
    for i in 0..30i64 {
        let e = AuditEvent {
            id: uuid::Uuid::now_v7(),
            at: start + time::Duration::minutes(i),
            kind: if i % 3 == 0 {
                AuditKind::AccessDenied
            } else {
                AuditKind::LoginSucceeded
            },
            actor: (i % 2 == 0).then_some(a.id),
            subject: None,
            ip: Some(format!("203.0.113.{i}")),
            success: i % 3 != 0,
        };
        store.audit.record(&e).await.unwrap();
        all.push(e);
    }
    all.reverse();
    let everything = AuditFilter::default();
    assert_eq!(
        store.audit.search(&everything, 10, 0).await.unwrap(),
        all[..10]
    );
    assert_eq!(
        store.audit.search(&everything, 10, 25).await.unwrap(),
        all[25..]
    );
    let mine = AuditFilter {
        actor: Some(a.id),
        ..AuditFilter::default()
    };
    let found = store.audit.search(&mine, 100, 0).await.unwrap();
    assert_eq!(found.len(), 15);
    assert!(found.iter().all(|e| e.actor == Some(a.id)));
    let denied_in_window = AuditFilter {
        kind: Some(AuditKind::AccessDenied),
        from: Some(start + time::Duration::minutes(10)),
        before: Some(start + time::Duration::minutes(20)),
        ..AuditFilter::default()
    };
    let found = store.audit.search(&denied_in_window, 100, 0).await.unwrap();
    let minutes: Vec<i64> = found
        .iter()
        .map(|e| (e.at - start).whole_minutes())
        .collect();
    assert_eq!(minutes, vec![18, 15, 12]);
}

async fn a_one_time_link_works_once_for_its_purpose_until_it_expires(store: &Store) {
    use motcua_domain::{SessionKey, TokenPurpose};
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let now = datetime!(2026-01-05 02:00 UTC);
    let key = SessionKey::of_token("reset-token");
    store
        .accounts
        .create_token(
            &key,
            a.id,
            TokenPurpose::PasswordReset,
            now + time::Duration::minutes(30),
        )
        .await
        .unwrap();
    assert!(
        store
            .accounts
            .token_usable(&key, TokenPurpose::PasswordReset, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .accounts
            .token_usable(&key, TokenPurpose::EmailVerification, now)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .accounts
            .consume_token(&key, TokenPurpose::EmailVerification, now)
            .await
            .unwrap(),
        None
    );
    // two uses at once: exactly one wins
    let accounts = Arc::new(store.accounts.clone());
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let accounts = accounts.clone();
            let key = key.clone();
            tokio::spawn(async move {
                accounts
                    .consume_token(&key, TokenPurpose::PasswordReset, now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            assert_eq!(id, a.id);
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert!(
        !store
            .accounts
            .token_usable(&key, TokenPurpose::PasswordReset, now)
            .await
            .unwrap(),
        "used"
    );

    let late = SessionKey::of_token("late-token");
    store
        .accounts
        .create_token(&late, a.id, TokenPurpose::EmailVerification, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .accounts
            .consume_token(&late, TokenPurpose::EmailVerification, now)
            .await
            .unwrap(),
        None,
        "expired"
    );
    store.accounts.mark_email_verified(a.id, now).await.unwrap();
    assert_eq!(
        store
            .accounts
            .get(a.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        Some(now)
    );
}

async fn contact_data_updates_keep_login_names_unique(store: &Store) {
    use motcua_domain::{Email, Phone};
    let mut a = citizen();
    a.email_verified_at = Some(datetime!(2026-01-05 02:00 UTC));
    store.accounts.create(&a).await.unwrap();
    let mut b = citizen();
    b.id = motcua_domain::AccountId::new();
    b.personal_id = None;
    b.phone = Some(Phone::parse("0987654321").unwrap());
    b.email = Some(Email::parse("b@example.vn").unwrap());
    store.accounts.create(&b).await.unwrap();

    // same e-mail: stays verified
    store
        .accounts
        .update_contact(
            a.id,
            a.phone.as_ref(),
            a.email.as_ref(),
            Some("Địa chỉ mới"),
        )
        .await
        .unwrap();
    let now = store.accounts.get(a.id).await.unwrap().unwrap();
    assert_eq!(now.address.as_deref(), Some("Địa chỉ mới"));
    assert!(now.email_verified_at.is_some());
    // new e-mail: unverified again
    let new_email = Email::parse("an.moi@example.vn").unwrap();
    store
        .accounts
        .update_contact(a.id, None, Some(&new_email), None)
        .await
        .unwrap();
    let now = store.accounts.get(a.id).await.unwrap().unwrap();
    assert_eq!(
        (now.email, now.phone, now.email_verified_at),
        (Some(new_email), None, None)
    );
    // someone else's phone: refused, nothing changed
    let err = store
        .accounts
        .update_contact(a.id, b.phone.as_ref(), None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        store
            .accounts
            .get(a.id)
            .await
            .unwrap()
            .unwrap()
            .email
            .is_some()
    );
}

fn draft_for(account: motcua_domain::AccountId) -> motcua_domain::submission::Draft {
    let mut answers = motcua_domain::form::Answers::new();
    answers.insert("ho_ten".into(), vec!["Nguyễn Văn An".into()]);
    motcua_domain::submission::Draft {
        id: motcua_domain::submission::DraftId::new(),
        account,
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: code(AGENCY),
        answers,
        created_at: datetime!(2026-03-02 02:00:00 UTC),
        updated_at: datetime!(2026-03-02 02:00:00 UTC),
        dossier: None,
    }
}

fn upload_for(
    draft: &motcua_domain::submission::Draft,
    size: u64,
    at: OffsetDateTime,
) -> motcua_domain::submission::Upload {
    let id = uuid::Uuid::now_v7();
    motcua_domain::submission::Upload {
        id: motcua_domain::submission::UploadId(id),
        account: draft.account,
        draft: draft.id,
        component: 0,
        file_name: "tờ khai.pdf".into(),
        object_key: format!("uploads/{id}"),
        file_type: motcua_domain::upload::FileType::Pdf,
        size,
        sha256: "ab".repeat(32),
        created_at: at,
        dossier: None,
    }
}

fn submission_of(
    draft: &motcua_domain::submission::Draft,
) -> motcua_domain::submission::Submission {
    motcua_domain::submission::Submission {
        draft: draft.id,
        new_dossier: DossierId::new(),
        charge: None,
        by_post: None,
        account: draft.account,
        applicant_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        applicant_phone: "0912345678".into(),
        applicant_personal_id: "001099012345".into(),
        on_behalf: false,
        answers: draft.answers.clone(),
        at: datetime!(2026-03-02 03:00:00 UTC),
        emails: vec![motcua_domain::submission::OutgoingEmail {
            to: "an@example.vn".into(),
            subject: "Đã nhận hồ sơ {code}".into(),
            body: "Mã hồ sơ của bạn: {code}".into(),
        }],
    }
}

async fn a_draft_keeps_what_was_typed_until_it_is_submitted(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let mut draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    // an invalid answer is kept as typed
    draft
        .answers
        .insert("ngay_sinh".into(), vec!["31/02/2024".into()]);
    draft.updated_at = datetime!(2026-03-02 02:05:00 UTC);
    store.submissions.save_draft(&draft).await.unwrap();
    assert_eq!(
        store.submissions.get_draft(draft.id).await.unwrap(),
        Some(draft.clone())
    );
    let older = {
        let mut d = draft_for(a.id);
        d.updated_at = datetime!(2026-03-01 02:00:00 UTC);
        d
    };
    store.submissions.save_draft(&older).await.unwrap();
    let listed: Vec<_> = store
        .submissions
        .drafts_for(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, vec![draft.id, older.id]);
    // somebody else cannot overwrite it
    let mut stolen = draft.clone();
    let other = {
        let mut o = citizen();
        o.id = motcua_domain::AccountId::new();
        o.personal_id = None;
        o.phone = None;
        o.email = Some(motcua_domain::Email::parse("khac@example.vn").unwrap());
        o
    };
    store.accounts.create(&other).await.unwrap();
    stolen.account = other.id;
    assert!(matches!(
        store.submissions.save_draft(&stolen).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.submissions.delete_draft(older.id, other.id).await,
        Err(StoreError::NotFound)
    ));
    store
        .submissions
        .delete_draft(older.id, a.id)
        .await
        .unwrap();
    store
        .submissions
        .submit(&submission_of(&draft))
        .await
        .unwrap();
    assert!(store.submissions.drafts_for(a.id).await.unwrap().is_empty());
    draft.updated_at = datetime!(2026-03-02 04:00:00 UTC);
    assert!(matches!(
        store.submissions.save_draft(&draft).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.submissions.delete_draft(draft.id, a.id).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_submission_commits_dossier_files_event_and_mail_together(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let file = upload_for(&draft, 204_800, datetime!(2026-03-02 02:10:00 UTC));
    store.submissions.add_upload(&file, 1 << 30).await.unwrap();
    let s = submission_of(&draft);
    let dossier = store.submissions.submit(&s).await.unwrap();
    assert_eq!(dossier.id, s.new_dossier);
    assert_eq!(dossier.status, DossierStatus::Submitted);
    assert_eq!(dossier.channel, Channel::Online);
    assert_eq!(dossier.code.to_string(), format!("{AGENCY}-260302-0001"));
    let history = store.dossiers.history(dossier.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].from, Some(DossierStatus::Draft));
    assert_eq!(history[0].to, DossierStatus::Submitted);
    let files = store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].dossier, Some(dossier.id));
    let details = store
        .submissions
        .online_details(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.account, Some(a.id));
    assert_eq!(details.applicant_phone.as_deref(), Some("0912345678"));
    assert_eq!(details.answers, draft.answers);
    assert_eq!(
        store.submissions.dossiers_for(a.id).await.unwrap()[0].id,
        dossier.id
    );
    // the mail is queued with the code filled in
    let jobs = store
        .outbox
        .claim(
            datetime!(2026-03-02 03:00:01 UTC),
            time::Duration::minutes(5),
            10,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&jobs[0].payload).unwrap();
    assert_eq!(
        payload["subject"],
        format!("Đã nhận hồ sơ {}", dossier.code)
    );
    // a claimed file cannot be removed, and the submitted draft takes no more files
    assert_eq!(
        store
            .submissions
            .remove_upload(file.id, draft.id)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store
            .submissions
            .add_upload(
                &upload_for(&draft, 10, datetime!(2026-03-02 03:10:00 UTC)),
                1 << 30
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn submitting_one_draft_twice_or_at_once_gives_one_dossier(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        // every attempt proposes its own new id, as separate requests would
        let s = submission_of(&draft);
        tasks.push(tokio::spawn(
            async move { store.submissions.submit(&s).await },
        ));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().code);
    }
    assert_eq!(ids.len(), 1, "one dossier for one draft: {ids:?}");
    let again = store
        .submissions
        .submit(&submission_of(&draft))
        .await
        .unwrap();
    assert!(ids.contains(&again.code));
    assert_eq!(store.submissions.dossiers_for(a.id).await.unwrap().len(), 1);
    assert_eq!(
        store.outbox.pending().await.unwrap(),
        1,
        "one mail, not eight"
    );
    // another account cannot submit this draft
    let mut s = submission_of(&draft);
    s.account = motcua_domain::AccountId::new();
    assert!(matches!(
        store.submissions.submit(&s).await,
        Err(StoreError::NotFound)
    ));
}

async fn uploads_respect_the_dossier_limit_and_stale_ones_are_found(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let early = datetime!(2026-03-02 02:01:00 UTC);
    let first = upload_for(&draft, 600, early);
    store.submissions.add_upload(&first, 1000).await.unwrap();
    assert!(matches!(
        store
            .submissions
            .add_upload(&upload_for(&draft, 401, early), 1000)
            .await,
        Err(StoreError::Constraint(_))
    ));
    let second = upload_for(&draft, 400, early);
    store.submissions.add_upload(&second, 1000).await.unwrap();
    assert_eq!(
        store
            .submissions
            .uploads_for_draft(draft.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.submissions.get_upload(first.id).await.unwrap(),
        Some(first.clone())
    );
    // the draft was touched after `before`: its files are not stale yet
    let mut touched = draft.clone();
    touched.updated_at = datetime!(2026-03-02 02:05:00 UTC);
    store.submissions.save_draft(&touched).await.unwrap();
    let before = datetime!(2026-03-02 02:03:00 UTC);
    assert!(
        store
            .submissions
            .stale_uploads(before, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = datetime!(2026-03-03 02:00:00 UTC);
    let stale = store.submissions.stale_uploads(later, 10).await.unwrap();
    assert_eq!(stale.len(), 2);
    store.submissions.forget_upload(first.id).await.unwrap();
    let removed = store
        .submissions
        .remove_upload(second.id, draft.id)
        .await
        .unwrap();
    assert_eq!(removed.map(|u| u.id), Some(second.id));
    assert!(
        store
            .submissions
            .uploads_for_draft(draft.id)
            .await
            .unwrap()
            .is_empty()
    );
    // deleting a draft hands back its files
    let third = upload_for(&draft, 10, early);
    store.submissions.add_upload(&third, 1000).await.unwrap();
    let gone = store
        .submissions
        .delete_draft(draft.id, a.id)
        .await
        .unwrap();
    assert_eq!(
        gone.into_iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![third.id]
    );
    assert_eq!(store.submissions.get_draft(draft.id).await.unwrap(), None);
}

async fn outbox_jobs_are_claimed_once_retried_and_completed(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let mut s = submission_of(&draft);
    s.emails.push(s.emails[0].clone());
    store.submissions.submit(&s).await.unwrap();
    let now = datetime!(2026-03-02 03:00:00 UTC);
    let lease = time::Duration::minutes(5);
    // two workers at once take each job once
    let (x, y) = tokio::join!(
        store.outbox.claim(now, lease, 1),
        store.outbox.claim(now, lease, 1)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.len() + y.len(), 2);
    if let (Some(p), Some(q)) = (x.first(), y.first()) {
        assert_ne!(p.id, q.id);
    }
    let mut jobs: Vec<_> = x.into_iter().chain(y).collect();
    assert!(
        store.outbox.claim(now, lease, 10).await.unwrap().is_empty(),
        "leased"
    );
    let done = jobs.pop().unwrap();
    let failing = jobs.pop().unwrap();
    assert_eq!(failing.attempts, 1);
    store.outbox.complete(done.id, now).await.unwrap();
    store
        .outbox
        .fail(
            failing.id,
            "connection refused",
            Some(now + time::Duration::seconds(30)),
        )
        .await
        .unwrap();
    assert!(
        store
            .outbox
            .claim(now + time::Duration::seconds(10), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store
        .outbox
        .claim(now + time::Duration::seconds(31), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        retried
            .iter()
            .map(|j| (j.id, j.attempts))
            .collect::<Vec<_>>(),
        vec![(failing.id, 2)]
    );
    store
        .outbox
        .fail(failing.id, "still refused", None)
        .await
        .unwrap();
    assert!(
        store
            .outbox
            .claim(now + time::Duration::days(1), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.outbox.pending().await.unwrap(),
        1,
        "given up, left for an operator"
    );
}

async fn a_supplement_claims_its_files_with_the_transition(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let at = datetime!(2026-03-02 02:10:00 UTC);
    // a supplement needs a submitted dossier
    assert!(matches!(
        store
            .submissions
            .add_supplement_upload(&upload_for(&draft, 10, at), 1 << 30)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .submissions
        .add_upload(&upload_for(&draft, 10, at), 1 << 30)
        .await
        .unwrap();
    let dossier = store
        .submissions
        .submit(&submission_of(&draft))
        .await
        .unwrap();
    assert_eq!(
        store.submissions.draft_of(dossier.id).await.unwrap(),
        Some(draft.id)
    );
    let t = |from, to, minute| {
        Transition::new(
            dossier.id,
            from,
            to,
            datetime!(2026-03-02 04:00:00 UTC) + time::Duration::minutes(minute),
            "officer",
        )
        .unwrap()
    };
    store
        .dossiers
        .record_transition(&t(
            DossierStatus::Submitted,
            DossierStatus::SupplementRequested,
            0,
        ))
        .await
        .unwrap();
    let extra = upload_for(&draft, 20, at);
    store
        .submissions
        .add_supplement_upload(&extra, 1 << 30)
        .await
        .unwrap();
    assert_eq!(
        store
            .submissions
            .uploads_for_dossier(dossier.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // a stale transition claims nothing
    assert!(matches!(
        store
            .submissions
            .send_supplement(
                draft.id,
                &t(DossierStatus::Received, DossierStatus::Processing, 1),
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .submissions
            .uploads_for_dossier(dossier.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // a step change that fails (it ends a holding that does not exist) takes the transition and the claim with it
    let failing = motcua_domain::workflow::StepChange {
        dossier: Some(dossier.id),
        end: Some(motcua_domain::workflow::EndStep {
            seq: 99,
            at,
            by: "officer".into(),
            outcome: motcua_domain::workflow::StepOutcome::Forwarded,
            note: None,
        }),
        ..Default::default()
    };
    assert!(matches!(
        store
            .submissions
            .send_supplement(
                draft.id,
                &t(
                    DossierStatus::SupplementRequested,
                    DossierStatus::Submitted,
                    2,
                ),
                Some(&failing),
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::SupplementRequested,
        "nothing of a half-done supplement stays"
    );
    assert_eq!(
        store
            .submissions
            .uploads_for_dossier(dossier.id)
            .await
            .unwrap()
            .len(),
        1
    );
    let event = store
        .submissions
        .send_supplement(
            draft.id,
            &t(
                DossierStatus::SupplementRequested,
                DossierStatus::Submitted,
                2,
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(event.seq, 3);
    let files = store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await
        .unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().any(|f| f.id == extra.id));
    assert_eq!(
        store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::Submitted
    );
}

async fn the_reception_queue_lists_an_agencys_waiting_dossiers_oldest_first(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let mut codes = Vec::new();
    for minute in [30, 10, 20] {
        let draft = draft_for(a.id);
        store.submissions.save_draft(&draft).await.unwrap();
        let mut s = submission_of(&draft);
        s.at = datetime!(2026-03-02 03:00:00 UTC) + time::Duration::minutes(minute);
        s.emails.clear();
        codes.push((minute, store.submissions.submit(&s).await.unwrap()));
    }
    let agency = code(AGENCY);
    let queue = store
        .submissions
        .queue(&DossierQuery::new(
            std::slice::from_ref(&agency),
            &[DossierStatus::Submitted],
            10,
        ))
        .await
        .unwrap();
    let minutes: Vec<i64> = queue
        .iter()
        .map(|d| (d.created_at - datetime!(2026-03-02 03:00:00 UTC)).whole_minutes())
        .collect();
    assert_eq!(minutes, vec![10, 20, 30]);
    // one page at a time, and the filters narrow it in the query
    let page = |q: DossierQuery| {
        let store = store.clone();
        async move {
            store
                .submissions
                .queue(&q)
                .await
                .unwrap()
                .iter()
                .map(|d| (d.created_at - datetime!(2026-03-02 03:00:00 UTC)).whole_minutes())
                .collect::<Vec<i64>>()
        }
    };
    let base = DossierQuery::new(
        std::slice::from_ref(&agency),
        &[DossierStatus::Submitted],
        2,
    );
    assert_eq!(page(base.clone()).await, vec![10, 20]);
    // counted whatever the page, with the same filters
    assert_eq!(store.submissions.count(&base).await.unwrap(), 3);
    assert_eq!(
        store
            .submissions
            .count(&DossierQuery {
                due_from: Some(datetime!(2000-01-01 00:00 UTC)),
                due_before: Some(datetime!(2100-01-01 00:00 UTC)),
                ..base.clone()
            })
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        page(DossierQuery {
            offset: 2,
            ..base.clone()
        })
        .await,
        vec![30]
    );
    assert_eq!(
        page(DossierQuery {
            created_from: Some(datetime!(2026-03-02 03:15:00 UTC)),
            created_before: Some(datetime!(2026-03-02 03:25:00 UTC)),
            ..base.clone()
        })
        .await,
        vec![20]
    );
    assert_eq!(
        page(DossierQuery {
            only: Some(vec![codes[0].1.id]),
            ..base.clone()
        })
        .await,
        vec![30]
    );
    assert!(
        page(DossierQuery {
            only: Some(vec![]),
            ..base.clone()
        })
        .await
        .is_empty()
    );
    assert!(
        page(DossierQuery {
            channel: Some(motcua_domain::Channel::Post),
            ..base.clone()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        page(DossierQuery {
            channel: Some(codes[0].1.channel),
            limit: 10,
            ..base.clone()
        })
        .await
        .len(),
        3
    );
    // the text matches the code or the applicant without diacritics, or a listed procedure; `%` is literal
    let name = codes[0].1.applicant_name.as_str().to_string();
    let folded = motcua_store::search_text("", &name).trim().to_string();
    let text = |t: &str, procedures: Vec<motcua_domain::ProcedureCode>| DossierQuery {
        text: Some((t.to_string(), procedures)),
        limit: 10,
        ..base.clone()
    };
    assert_eq!(page(text(&folded, vec![])).await.len(), 3, "{folded}");
    let one_code = codes[1].1.code.to_string().to_lowercase();
    assert_eq!(page(text(&one_code, vec![])).await, vec![10]);
    assert!(page(text("%", vec![])).await.is_empty());
    assert!(page(text("khong ai ten nay", vec![])).await.is_empty());
    assert_eq!(
        page(text(
            "khong ai ten nay",
            vec![motcua_domain::ProcedureCode::parse(PROCEDURE).unwrap()]
        ))
        .await
        .len(),
        3
    );
    assert!(
        store
            .submissions
            .queue(&DossierQuery::new(
                &[code(OTHER_AGENCY)],
                &[DossierStatus::Submitted],
                10
            ))
            .await
            .unwrap()
            .is_empty()
    );
    // accepting one takes it off the queue and queues the applicant's mail with the same commit
    let first = &queue[0];
    let t = Transition::new(
        first.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        datetime!(2026-03-02 04:00:00 UTC),
        "officer",
    )
    .unwrap()
    .with_due_at(datetime!(2026-03-09 04:00:00 UTC));
    let mail = motcua_domain::submission::OutgoingEmail {
        to: "an@example.vn".into(),
        subject: "Hồ sơ {code} đã được tiếp nhận".into(),
        body: "x".into(),
    };
    store
        .submissions
        .transition_with_mail(&t, std::slice::from_ref(&mail))
        .await
        .unwrap();
    assert_eq!(store.outbox.pending().await.unwrap(), 1);
    assert!(matches!(
        store.submissions.transition_with_mail(&t, &[mail]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.outbox.pending().await.unwrap(),
        1,
        "a refused change queues nothing"
    );
    let received = store.dossiers.get(first.id).await.unwrap().unwrap();
    assert_eq!(received.due_at, Some(datetime!(2026-03-09 04:00:00 UTC)));
    let waiting = store
        .submissions
        .queue(&DossierQuery::new(
            &[agency],
            &[DossierStatus::Submitted],
            10,
        ))
        .await
        .unwrap();
    assert_eq!(waiting.len(), 2);
}

async fn calendar_days_round_trip_and_replace_by_date(store: &Store) {
    use motcua_calendar::{DayKind, Holidays, SpecialDay};
    assert!(store.calendar.days().await.unwrap().is_empty());
    let built_in: Vec<SpecialDay> = Holidays::built_in().iter().cloned().collect();
    store.calendar.put_days(&built_in).await.unwrap();
    assert_eq!(store.calendar.days().await.unwrap(), built_in);
    let changed = SpecialDay {
        date: date!(2026 - 09 - 01),
        kind: DayKind::Off,
        name: "Quốc khánh (đã xác minh)".into(),
        proposed: false,
    };
    store
        .calendar
        .put_days(std::slice::from_ref(&changed))
        .await
        .unwrap();
    let days = store.calendar.days().await.unwrap();
    assert_eq!(days.len(), built_in.len());
    assert!(days.contains(&changed));
    assert!(
        store
            .calendar
            .remove_day(date!(2026 - 09 - 01))
            .await
            .unwrap()
    );
    assert!(
        !store
            .calendar
            .remove_day(date!(2026 - 09 - 01))
            .await
            .unwrap()
    );
    assert_eq!(
        store.calendar.days().await.unwrap().len(),
        built_in.len() - 1
    );
}

async fn a_counter_intake_is_created_and_received_in_one_commit(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let at = datetime!(2026-03-02 02:30:00 UTC);
    let intake = motcua_domain::submission::Intake {
        dossier: DossierId::new(),
        agency: code(AGENCY),
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        channel: Channel::InPerson,
        account: Some(a.id),
        applicant_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        applicant_phone: Some("0912345678".into()),
        applicant_personal_id: None,
        answers: Default::default(),
        officer: "Trần Thị Bình (officer)".into(),
        at,
        due_at: Some(datetime!(2026-03-09 02:30:00 UTC)),
        emails: vec![motcua_domain::submission::OutgoingEmail {
            to: "an@example.vn".into(),
            subject: "Hồ sơ {code} đã được tiếp nhận".into(),
            body: "x".into(),
        }],
    };
    let d = store.submissions.intake(&intake).await.unwrap();
    assert_eq!(d.status, DossierStatus::Received);
    assert_eq!(d.channel, Channel::InPerson);
    assert_eq!(d.due_at, intake.due_at);
    assert_eq!(d.code.to_string(), format!("{AGENCY}-260302-0001"));
    let history = store.dossiers.history(d.id).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.to).collect::<Vec<_>>(),
        vec![DossierStatus::Submitted, DossierStatus::Received]
    );
    HistoryEvent::verify_chain(&history).unwrap();
    assert_eq!(store.submissions.dossiers_for(a.id).await.unwrap().len(), 1);
    assert_eq!(store.outbox.pending().await.unwrap(), 1);
    let details = store
        .submissions
        .online_details(d.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.applicant_phone.as_deref(), Some("0912345678"));
}

async fn a_reminder_is_queued_once_however_many_nodes_try(store: &Store) {
    fixtures::seed_minimal(store).await;
    let mail = motcua_domain::submission::OutgoingEmail {
        to: "tp@example.vn".into(),
        subject: "Hồ sơ sắp đến hạn".into(),
        body: "x".into(),
    };
    let at = datetime!(2026-03-02 02:00:00 UTC);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (store, mail) = (store.clone(), mail.clone());
        tasks.push(tokio::spawn(async move {
            store
                .outbox
                .enqueue_email_once("due-soon:x", &mail, at)
                .await
        }));
    }
    let mut queued = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            queued += 1;
        }
    }
    assert_eq!(queued, 1);
    assert_eq!(store.outbox.pending().await.unwrap(), 1);
    assert!(
        store
            .outbox
            .enqueue_email_once("due-soon:y", &mail, at)
            .await
            .unwrap()
    );
    // dossiers due before an instant, soonest first
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    let mut s = submission_of(&draft);
    s.emails.clear();
    let d = store.submissions.submit(&s).await.unwrap();
    let due = datetime!(2026-03-04 10:00:00 UTC);
    let t = Transition::new(
        d.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        at,
        "officer",
    )
    .unwrap()
    .with_due_at(due);
    store.dossiers.record_transition(&t).await.unwrap();
    let statuses = [DossierStatus::Received, DossierStatus::Processing];
    assert_eq!(
        store
            .submissions
            .due_before(due + time::Duration::SECOND, &statuses, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .submissions
            .due_before(due, &statuses, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn workflows_are_versioned_per_case(store: &Store) {
    use motcua_domain::workflow::Workflow;
    fixtures::seed_minimal(store).await;
    let p = ProcedureCode::parse(PROCEDURE).unwrap();
    let case = CaseKey::parse("mac-dinh").unwrap();
    assert!(
        store
            .workflows
            .workflow(&p, &case, None)
            .await
            .unwrap()
            .is_none()
    );
    let first = Workflow::default_for(Some(40));
    let at = datetime!(2026-03-02 02:00 UTC);
    assert_eq!(
        store
            .workflows
            .save_workflow(&p, &case, &first, at, "admin")
            .await
            .unwrap(),
        1
    );
    let mut second = first.clone();
    second.steps.remove(1);
    second.steps[0].agency = Some(code(OTHER_AGENCY));
    assert_eq!(
        store
            .workflows
            .save_workflow(&p, &case, &second, at, "admin")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.workflows.workflow(&p, &case, None).await.unwrap(),
        Some((2, second))
    );
    assert_eq!(
        store.workflows.workflow(&p, &case, Some(1)).await.unwrap(),
        Some((1, first))
    );
    assert!(
        store
            .workflows
            .workflow(&p, &case, Some(3))
            .await
            .unwrap()
            .is_none()
    );
    let other = CaseKey::parse("khac").unwrap();
    assert!(
        store
            .workflows
            .workflow(&p, &other, None)
            .await
            .unwrap()
            .is_none()
    );
}

fn step(
    index: u32,
    agency: &str,
    assignee: Option<motcua_domain::AccountId>,
) -> motcua_domain::workflow::NewStep {
    motcua_domain::workflow::NewStep {
        index,
        workflow_version: 0,
        name: format!("Bước {}", index + 1),
        agency: code(agency),
        role: motcua_domain::Role::Specialist,
        quota_hours: 8,
        assignee: assignee.map(|a| (a, "Chuyên viên A".to_string())),
        started_at: datetime!(2026-03-02 02:00 UTC) + time::Duration::hours(i64::from(index)),
        started_by: "Trưởng phòng (x)".into(),
        due_at: datetime!(2026-03-03 02:00 UTC) + time::Duration::hours(i64::from(index)),
    }
}

async fn a_dossier_moves_through_its_steps_one_hand_off_at_a_time(store: &Store) {
    use motcua_domain::submission::OutgoingEmail;
    use motcua_domain::workflow::{EndStep, StepChange, StepOutcome};
    let dossier = submitted_dossier(store).await;
    let officer = citizen();
    store.accounts.create(&officer).await.unwrap();
    let at = datetime!(2026-03-02 02:00 UTC);
    let received = Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        at,
        "officer",
    )
    .unwrap();
    store.dossiers.record_transition(&received).await.unwrap();
    // processing starts: status change and first step in one commit, with the assignee's e-mail
    let start = Transition::new(
        dossier.id,
        DossierStatus::Received,
        DossierStatus::Processing,
        at,
        "officer",
    )
    .unwrap();
    let pending = store.outbox.pending().await.unwrap();
    store
        .workflows
        .hand_off(
            Some(&start),
            &StepChange {
                dossier: Some(dossier.id),
                next: Some(step(0, AGENCY, Some(officer.id))),
                emails: vec![OutgoingEmail {
                    to: "a@example.vn".into(),
                    subject: "Hồ sơ {code} được giao".into(),
                    body: "x".into(),
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.outbox.pending().await.unwrap(), pending + 1);
    let fetched = store.dossiers.get(dossier.id).await.unwrap().unwrap();
    assert_eq!(fetched.status, DossierStatus::Processing);
    let mine = store.workflows.open_steps_of(officer.id, 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].assignee_name.as_deref(), Some("Chuyên viên A"));
    // forward to an inter-agency step: it leaves this agency's open steps and appears in the other's
    store
        .workflows
        .hand_off(
            None,
            &StepChange {
                dossier: Some(dossier.id),
                end: Some(EndStep {
                    seq: 1,
                    at: at + time::Duration::hours(3),
                    by: "Chuyên viên A (x)".into(),
                    outcome: StepOutcome::Forwarded,
                    note: None,
                }),
                next: Some(step(1, OTHER_AGENCY, None)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        store
            .workflows
            .open_steps(&[code(AGENCY)], 10)
            .await
            .unwrap()
            .is_empty()
    );
    let there = store
        .workflows
        .open_steps(&[code(OTHER_AGENCY)], 10)
        .await
        .unwrap();
    assert_eq!((there.len(), there[0].seq, there[0].index), (1, 2, 1));
    assert!(
        store
            .workflows
            .open_steps_of(officer.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // a pause moves the open step's due time
    let later = there[0].due_at + time::Duration::hours(5);
    store
        .workflows
        .hand_off(
            None,
            &StepChange {
                dossier: Some(dossier.id),
                extend: Some((2, later)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // returned with a reason, back to step 1
    store
        .workflows
        .hand_off(
            None,
            &StepChange {
                dossier: Some(dossier.id),
                end: Some(EndStep {
                    seq: 2,
                    at: at + time::Duration::hours(4),
                    by: "Sở (y)".into(),
                    outcome: StepOutcome::Returned,
                    note: Some("Thiếu ý kiến thẩm định".into()),
                }),
                next: Some(step(0, AGENCY, Some(officer.id))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let steps = store.workflows.steps(dossier.id).await.unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[1].due_at, later);
    assert_eq!(steps[1].outcome, Some(StepOutcome::Returned));
    assert_eq!(steps[1].note.as_deref(), Some("Thiếu ý kiến thẩm định"));
    assert_eq!(steps[0].ended_at, Some(at + time::Duration::hours(3)));
    assert!(steps[2].ended_at.is_none());
    // a hand-off from an ended holding is refused and changes nothing (not even the status)
    let stale = Transition::new(
        dossier.id,
        DossierStatus::Processing,
        DossierStatus::Processed,
        at,
        "leader",
    )
    .unwrap();
    let refused = store
        .workflows
        .hand_off(
            Some(&stale),
            &StepChange {
                dossier: Some(dossier.id),
                end: Some(EndStep {
                    seq: 2,
                    at,
                    by: "x".into(),
                    outcome: StepOutcome::Approved,
                    note: None,
                }),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let fetched = store.dossiers.get(dossier.id).await.unwrap().unwrap();
    assert_eq!(fetched.status, DossierStatus::Processing);
    assert_eq!(store.workflows.steps(dossier.id).await.unwrap(), steps);
    // the register lists it by its reception
    let listed = store
        .workflows
        .received_between(
            &[code(AGENCY)],
            at - time::Duration::hours(1),
            at + time::Duration::hours(1),
            100,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].dossier.id,
            listed[0].received_at,
            listed[0].delivered_at
        ),
        (dossier.id, at, None)
    );
    assert!(
        store
            .workflows
            .received_between(
                &[code(OTHER_AGENCY)],
                at - time::Duration::hours(1),
                at + time::Duration::hours(1),
                100
            )
            .await
            .unwrap()
            .is_empty()
    );
}

async fn of_two_concurrent_hand_offs_exactly_one_succeeds(store: &Store) {
    use motcua_domain::workflow::{EndStep, StepChange, StepOutcome};
    let dossier = submitted_dossier(store).await;
    store
        .workflows
        .hand_off(
            None,
            &StepChange {
                dossier: Some(dossier.id),
                next: Some(step(0, AGENCY, None)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let store = Arc::new(store.clone());
    let mut tasks = Vec::new();
    for i in 0..6u32 {
        let store = store.clone();
        let id = dossier.id;
        tasks.push(tokio::spawn(async move {
            store
                .workflows
                .hand_off(
                    None,
                    &StepChange {
                        dossier: Some(id),
                        end: Some(EndStep {
                            seq: 1,
                            at: datetime!(2026-03-02 05:00 UTC),
                            by: format!("officer {i}"),
                            outcome: StepOutcome::Forwarded,
                            note: None,
                        }),
                        next: Some(step(1, AGENCY, None)),
                        ..Default::default()
                    },
                )
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
    let steps = store.workflows.steps(dossier.id).await.unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps.iter().filter(|s| s.ended_at.is_none()).count(), 1);
}

async fn a_result_is_recorded_and_corrected(store: &Store) {
    use motcua_domain::workflow::{DossierResult, ResultFile, Seal};
    let dossier = submitted_dossier(store).await;
    assert!(store.workflows.result(dossier.id).await.unwrap().is_none());
    let mut result = DossierResult {
        dossier: dossier.id,
        document_number: "12/GCN-UBND".into(),
        signer: "Lê Văn Ký".into(),
        signed_on: date!(2026 - 03 - 05),
        file: Some(ResultFile {
            object_key: "ket-qua/1".into(),
            file_name: "ket-qua.pdf".into(),
            file_type: "application/pdf".into(),
            size: 1234,
            sha256: "ab".repeat(32),
            seal: Some(Seal {
                signature_key: "ket-qua/1.p7s".into(),
                code: "a1b2c3".into(),
                fingerprint: "cd".repeat(32),
                signed_by: "Sở Tư pháp (000.00.01.H01)".into(),
                at: datetime!(2026-03-05 03:00 UTC),
            }),
        }),
        entered_by: "Chuyên viên (x)".into(),
        entered_at: datetime!(2026-03-05 03:00 UTC),
    };
    store.workflows.save_result(&result).await.unwrap();
    assert_eq!(
        store.workflows.result_by_seal("a1b2c3").await.unwrap(),
        Some(result.clone())
    );
    assert_eq!(
        store.workflows.result_by_seal("a1b2c4").await.unwrap(),
        None
    );
    assert_eq!(
        store.workflows.result(dossier.id).await.unwrap(),
        Some(result.clone())
    );
    // a correction without a new file keeps the file
    let file = result.file.take();
    result.document_number = "13/GCN-UBND".into();
    store.workflows.save_result(&result).await.unwrap();
    let stored = store.workflows.result(dossier.id).await.unwrap().unwrap();
    assert_eq!(stored.document_number, "13/GCN-UBND");
    assert_eq!(stored.file, file);
    // a new file that is not signed takes the old signature with it
    result.file = Some(ResultFile {
        object_key: "ket-qua/2".into(),
        seal: None,
        ..file.clone().unwrap()
    });
    store.workflows.save_result(&result).await.unwrap();
    let stored = store.workflows.result(dossier.id).await.unwrap().unwrap();
    assert_eq!(stored.file, result.file);
    assert_eq!(
        store.workflows.result_by_seal("a1b2c3").await.unwrap(),
        None
    );
}

/// A received counter dossier moved to status 6 with a fee of 50.000 đ set by an officer.
async fn dossier_owing_a_fee(
    store: &Store,
) -> (motcua_domain::Dossier, motcua_domain::payment::Charge) {
    use motcua_domain::payment::Charge;
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let at = datetime!(2026-03-02 02:30:00 UTC);
    let d = store
        .submissions
        .intake(&motcua_domain::submission::Intake {
            dossier: DossierId::new(),
            agency: code(AGENCY),
            procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
            procedure_version: 1,
            case: CaseKey::parse("mac-dinh").unwrap(),
            channel: Channel::InPerson,
            account: Some(a.id),
            applicant_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
            applicant_phone: Some("0912345678".into()),
            applicant_personal_id: None,
            answers: Default::default(),
            officer: "Trần Thị Bình (officer)".into(),
            at,
            due_at: Some(datetime!(2026-03-09 02:30:00 UTC)),
            emails: vec![],
        })
        .await
        .unwrap();
    let charge = Charge {
        id: uuid::Uuid::now_v7(),
        dossier: d.id,
        amount: motcua_domain::Vnd::new(50_000).unwrap(),
        reason: "Lệ phí cấp bản sao trích lục".into(),
        set_by: "Trần Thị Bình (officer)".into(),
        set_at: at + time::Duration::hours(1),
        paid_at: None,
        waived: None,
    };
    let t = Transition::new(
        d.id,
        DossierStatus::Received,
        DossierStatus::AwaitingFinancialObligation,
        charge.set_at,
        "Trần Thị Bình (officer)",
    )
    .unwrap()
    .with_reason("Nộp lệ phí cấp bản sao");
    store
        .workflows
        .hand_off(
            Some(&t),
            &motcua_domain::workflow::StepChange {
                dossier: Some(d.id),
                charge: Some(charge.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (d, charge)
}

fn attempt(
    d: &motcua_domain::Dossier,
    charge: &motcua_domain::payment::Charge,
) -> motcua_domain::payment::Payment {
    use motcua_domain::payment::{Payment, PaymentStatus, Provider, transaction_ref};
    let id = uuid::Uuid::now_v7();
    Payment {
        id,
        charge: charge.id,
        dossier: d.id,
        provider: Provider::VnPay,
        txn_ref: transaction_ref(id),
        amount: charge.amount,
        status: PaymentStatus::Pending,
        created_at: charge.set_at + time::Duration::minutes(5),
        created_by: "Nguyễn Văn An".into(),
        settled_at: None,
        gateway_ref: None,
        bank_code: None,
        flag: None,
    }
}

fn settlement(
    p: &motcua_domain::payment::Payment,
    paid: bool,
    resume: Option<Transition>,
) -> motcua_domain::payment::Settlement {
    motcua_domain::payment::Settlement {
        txn_ref: p.txn_ref.clone(),
        paid,
        at: p.created_at + time::Duration::minutes(1),
        gateway_ref: Some("14226112".into()),
        bank_code: Some("NCB".into()),
        flag: None,
        resume,
        enters_queue: false,
        then: motcua_domain::workflow::StepChange {
            emails: vec![motcua_domain::submission::OutgoingEmail {
                to: "an@example.vn".into(),
                subject: "Hồ sơ {code}: đã nhận tiền".into(),
                body: "x".into(),
            }],
            ..Default::default()
        },
    }
}

async fn a_fee_is_paid_once_and_the_dossier_resumes(store: &Store) {
    use motcua_domain::payment::PaymentStatus;
    let (d, charge) = dossier_owing_a_fee(store).await;
    assert_eq!(
        store.payments.charges(d.id).await.unwrap(),
        vec![charge.clone()]
    );
    // a declined attempt settles as failed and leaves the fee owed
    let first = attempt(&d, &charge);
    store.payments.start(&first).await.unwrap();
    assert!(
        matches!(
            store.payments.start(&first).await,
            Err(StoreError::Constraint(_) | StoreError::Conflict(_))
        ),
        "a reference is never reused"
    );
    // reconciliation asks each provider about its own pending payments only
    use motcua_domain::payment::Provider;
    let later = first.created_at + time::Duration::hours(1);
    let pending = store
        .payments
        .pending_before(first.provider, later, 10)
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|p| &p.txn_ref).collect::<Vec<_>>(),
        vec![&first.txn_ref]
    );
    let other = if first.provider == Provider::VnPay {
        Provider::NationalPlatform
    } else {
        Provider::VnPay
    };
    assert!(
        store
            .payments
            .pending_before(other, later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .payments
            .pending_before(first.provider, first.created_at, 10)
            .await
            .unwrap()
            .is_empty(),
        "not before it started"
    );
    assert!(
        store
            .payments
            .settle(&settlement(&first, false, None))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .payments
            .by_ref(&first.txn_ref)
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::Failed
    );
    assert_eq!(store.payments.charges(d.id).await.unwrap()[0].paid_at, None);
    // a second attempt succeeds: the fee is paid and the dossier goes back to processing, in one commit
    let second = attempt(&d, &charge);
    store.payments.start(&second).await.unwrap();
    let mut wrong = attempt(&d, &charge);
    wrong.amount = motcua_domain::Vnd::new(1).unwrap();
    assert!(matches!(
        store.payments.start(&wrong).await,
        Err(StoreError::Conflict(_))
    ));
    let resume = Transition::new(
        d.id,
        DossierStatus::AwaitingFinancialObligation,
        DossierStatus::Processing,
        second.created_at + time::Duration::minutes(1),
        "Thanh toán trực tuyến",
    )
    .unwrap();
    let before = store.outbox.pending().await.unwrap();
    assert!(
        store
            .payments
            .settle(&settlement(&second, true, Some(resume.clone())))
            .await
            .unwrap()
    );
    let paid = store
        .payments
        .by_ref(&second.txn_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert_eq!(paid.gateway_ref.as_deref(), Some("14226112"));
    assert!(
        store.payments.charges(d.id).await.unwrap()[0]
            .paid_at
            .is_some()
    );
    assert_eq!(
        store.dossiers.get(d.id).await.unwrap().unwrap().status,
        DossierStatus::Processing
    );
    assert_eq!(store.outbox.pending().await.unwrap(), before + 1);
    // a retried notification changes nothing
    assert!(
        !store
            .payments
            .settle(&settlement(&second, true, Some(resume)))
            .await
            .unwrap()
    );
    assert_eq!(store.outbox.pending().await.unwrap(), before + 1);
    assert_eq!(store.dossiers.history(d.id).await.unwrap().len(), 4);
    // a paid fee is not paid twice
    assert!(matches!(
        store.payments.start(&attempt(&d, &charge)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.payments.payments(d.id).await.unwrap().len(), 2);
    assert!(store.payments.by_ref("unknown").await.unwrap().is_none());
}

async fn of_two_racing_notifications_one_settles_the_payment(store: &Store) {
    let (d, charge) = dossier_owing_a_fee(store).await;
    let p = attempt(&d, &charge);
    store.payments.start(&p).await.unwrap();
    let resume = Transition::new(
        d.id,
        DossierStatus::AwaitingFinancialObligation,
        DossierStatus::Processing,
        p.created_at + time::Duration::minutes(1),
        "Thanh toán trực tuyến",
    )
    .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let store = store.clone();
        let s = settlement(&p, true, Some(resume.clone()));
        tasks.push(tokio::spawn(async move { store.payments.settle(&s).await }));
    }
    let mut settled = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(true) => settled += 1,
            // PostgreSQL may refuse the loser's serialisable transaction instead of finding nothing to update
            Ok(false) | Err(StoreError::Conflict(_)) | Err(StoreError::Busy(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(settled, 1, "exactly one notification settles the payment");
    assert_eq!(store.dossiers.history(d.id).await.unwrap().len(), 4);
    assert_eq!(store.outbox.pending().await.unwrap(), 1);
}

async fn searches_with_few_results_are_counted_per_query(store: &Store) {
    let at = datetime!(2026-04-01 03:00:00 UTC);
    store.search_log.record_miss("so do", 0, at).await.unwrap();
    store
        .search_log
        .record_miss("so do", 1, at + time::Duration::hours(1))
        .await
        .unwrap();
    store.search_log.record_miss("cmnd", 0, at).await.unwrap();
    let misses = store.search_log.misses(at, 10).await.unwrap();
    assert_eq!(misses.len(), 2);
    assert_eq!(
        (misses[0].query.as_str(), misses[0].times, misses[0].results),
        ("so do", 2, 1)
    );
    assert_eq!(misses[0].first_at, at);
    assert_eq!(misses[0].last_at, at + time::Duration::hours(1));
    // only those seen since
    let later = store
        .search_log
        .misses(at + time::Duration::minutes(30), 10)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
}

async fn a_delivery_by_post_moves_one_stage_at_a_time(store: &Store) {
    use motcua_domain::postal::{Delivery, DeliveryEvent, DeliveryStage, check_address};
    use motcua_domain::workflow::StepChange;
    let (d, _) = dossier_owing_a_fee(store).await;
    let at = datetime!(2026-04-01 03:00:00 UTC);
    assert_eq!(store.deliveries.delivery(d.id).await.unwrap(), None);
    let mut delivery = Delivery {
        dossier: d.id,
        address: check_address(
            "Nguyễn Văn An",
            "0912345678",
            "Tỉnh Đắk Lắk",
            "Phường Tân Lập",
            "12 Lê Duẩn",
        )
        .unwrap(),
        asked_at: at,
        handed: None,
        delivered_at: None,
        returned: None,
    };
    assert!(store.deliveries.ask(&delivery).await.unwrap());
    // the address may change until the hand-over
    delivery.address.street = "14 Lê Duẩn".into();
    assert!(store.deliveries.ask(&delivery).await.unwrap());
    assert_eq!(
        store.deliveries.delivery(d.id).await.unwrap(),
        Some(delivery.clone())
    );
    let none = StepChange::default();
    // nothing to deliver before the hand-over
    assert!(
        !store
            .deliveries
            .record(d.id, &DeliveryEvent::Delivered, at, None, &none)
            .await
            .unwrap()
    );
    let handed = DeliveryEvent::HandedOver {
        carrier: "Bưu điện".into(),
        tracking: "EL123456789VN".into(),
    };
    let mail = StepChange {
        emails: vec![motcua_domain::submission::OutgoingEmail {
            to: "an@example.vn".into(),
            subject: "Hồ sơ {code}: kết quả đã gửi qua bưu chính".into(),
            body: "x".into(),
        }],
        ..Default::default()
    };
    assert!(
        store
            .deliveries
            .record(d.id, &handed, at, None, &mail)
            .await
            .unwrap()
    );
    // recorded once: a second hand-over, or a new address, changes nothing
    assert!(
        !store
            .deliveries
            .record(d.id, &handed, at, None, &mail)
            .await
            .unwrap()
    );
    assert!(!store.deliveries.ask(&delivery).await.unwrap());
    let now = store.deliveries.delivery(d.id).await.unwrap().unwrap();
    assert_eq!(now.stage(), DeliveryStage::WithPost);
    assert_eq!(now.address.street, "14 Lê Duẩn");
    assert_eq!(
        now.handed.as_ref().map(|h| h.1.as_str()),
        Some("EL123456789VN")
    );
    let back = DeliveryEvent::Returned {
        reason: "Không có người nhận".into(),
    };
    assert!(
        store
            .deliveries
            .record(d.id, &back, at, None, &none)
            .await
            .unwrap()
    );
    assert!(
        !store
            .deliveries
            .record(d.id, &DeliveryEvent::Delivered, at, None, &none)
            .await
            .unwrap()
    );
    let now = store.deliveries.delivery(d.id).await.unwrap().unwrap();
    assert_eq!(now.stage(), DeliveryStage::Returned);
    assert_eq!(
        now.returned.map(|r| r.1),
        Some("Không có người nhận".into())
    );
}

async fn a_dossier_keeps_one_rating_code(store: &Store) {
    let (d, _) = dossier_owing_a_fee(store).await;
    let at = datetime!(2026-04-01 03:00:00 UTC);
    let first = store
        .ratings
        .rating_token(d.id, "ma-dau", at)
        .await
        .unwrap();
    assert_eq!(first, "ma-dau");
    // printed again: the same code, not the new one offered
    assert_eq!(
        store
            .ratings
            .rating_token(d.id, "ma-sau", at)
            .await
            .unwrap(),
        "ma-dau"
    );
    assert_eq!(
        store
            .ratings
            .dossier_of_rating_token("ma-dau")
            .await
            .unwrap(),
        Some(d.id)
    );
    assert_eq!(
        store
            .ratings
            .dossier_of_rating_token("ma-sau")
            .await
            .unwrap(),
        None
    );
}

async fn a_dossier_is_rated_once_and_counted_for_its_agency(store: &Store) {
    use motcua_domain::rating::{Rating, Satisfaction};
    let (d, _) = dossier_owing_a_fee(store).await;
    let at = datetime!(2026-04-01 03:00:00 UTC);
    let first = Rating {
        dossier: d.id,
        level: Satisfaction::Satisfied,
        comment: Some("Cán bộ hướng dẫn tận tình".into()),
        at,
        account: None,
    };
    assert!(store.ratings.rate(&first).await.unwrap());
    let second = Rating {
        level: Satisfaction::VeryDissatisfied,
        comment: None,
        ..first.clone()
    };
    assert!(
        !store.ratings.rate(&second).await.unwrap(),
        "once per dossier"
    );
    assert_eq!(store.ratings.rating(d.id).await.unwrap(), Some(first));
    let figures = store
        .ratings
        .figures(&[code(AGENCY)], at - time::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(figures.counts, [0, 0, 0, 1, 0]);
    assert_eq!(figures.satisfied_percent(), Some(100));
    let other = store
        .ratings
        .figures(&[code(OTHER_AGENCY)], at - time::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(other.total(), 0);
    let later = store
        .ratings
        .figures(&[code(AGENCY)], at + time::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(later.total(), 0, "only ratings since the given time");
}

async fn a_merger_moves_open_dossiers_once_with_history(store: &Store) {
    use motcua_store::Merger;
    fixtures::seed_minimal(store).await;
    let p = ProcedureCode::parse(PROCEDURE).unwrap();
    let case = CaseKey::parse("mac-dinh").unwrap();
    // a commune under the retired agency, one open and one finished dossier there, a level and a workflow
    let mut child = fixtures::agency("000.17.06.H56", "UBND xã Hòa Bình");
    child.parent = Some(code(AGENCY));
    store.agencies.upsert(&[child.clone()]).await.unwrap();
    let open = submitted_dossier(store).await;
    let finished_code = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 27))
        .await
        .unwrap();
    let mut finished = new_dossier(finished_code);
    finished.status = DossierStatus::Refused;
    let finished = store.dossiers.create(&finished).await.unwrap();
    let level = |agency: &str, level, from| ServiceLevelAssignment {
        procedure: p.clone(),
        case: case.clone(),
        agency: code(agency),
        level,
        effective_from: from,
    };
    store
        .catalogue
        .set_service_level(&level(
            AGENCY,
            OnlineServiceLevel::Level4,
            date!(2024 - 01 - 01),
        ))
        .await
        .unwrap();
    let mut flow = motcua_domain::workflow::Workflow::default_for(Some(40));
    flow.steps[0].agency = Some(code(AGENCY));
    store
        .workflows
        .save_workflow(&p, &case, &flow, datetime!(2024-01-02 02:00 UTC), "admin")
        .await
        .unwrap();

    let merger = Merger {
        retired: code(AGENCY),
        successor: code(OTHER_AGENCY),
        effective: date!(2025 - 07 - 01),
        at: datetime!(2025-07-01 01:00 UTC),
        actor: "admin".into(),
    };
    let report = store.agencies.merge(&merger).await.unwrap();
    assert_eq!(report.moved, vec![open.code.clone()]);
    assert_eq!(report.children_moved, 1);
    assert_eq!(
        report.levels_carried,
        vec![level(
            OTHER_AGENCY,
            OnlineServiceLevel::Level4,
            date!(2025 - 07 - 01)
        )]
    );
    assert!(report.levels_to_review.is_empty());
    assert_eq!(report.workflows_to_review, vec![(p.clone(), case.clone())]);

    let retired = store.agencies.get(&code(AGENCY)).await.unwrap().unwrap();
    assert_eq!(retired.valid_until, Some(date!(2025 - 06 - 30)));
    assert_eq!(retired.successor, Some(code(OTHER_AGENCY)));
    retired.validate().unwrap();
    assert_eq!(
        store
            .agencies
            .get(&child.code)
            .await
            .unwrap()
            .unwrap()
            .parent,
        Some(code(OTHER_AGENCY))
    );
    // the open dossier is at the successor under its old code, with one more chained event in the same status
    let moved = store
        .dossiers
        .get_by_code(&open.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.agency, code(OTHER_AGENCY));
    assert_eq!(moved.status, DossierStatus::Submitted);
    let history = store.dossiers.history(open.id).await.unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(last.from, Some(DossierStatus::Submitted));
    assert_eq!(last.to, DossierStatus::Submitted);
    assert_eq!(last.prev_hash, Some(history[0].hash));
    let reason = last.reason.as_deref().unwrap();
    assert!(
        reason.contains("sáp nhập") && reason.contains(OTHER_AGENCY),
        "{reason}"
    );
    // the finished one stays where it was decided
    assert_eq!(
        store
            .dossiers
            .get(finished.id)
            .await
            .unwrap()
            .unwrap()
            .agency,
        code(AGENCY)
    );
    assert_eq!(store.dossiers.history(finished.id).await.unwrap().len(), 1);
    let levels = store
        .catalogue
        .service_levels(&p, date!(2025 - 07 - 01))
        .await
        .unwrap();
    assert!(
        levels
            .iter()
            .any(|l| l.agency == code(OTHER_AGENCY) && l.level == OnlineServiceLevel::Level4)
    );

    // an update read before the merger (no successor, no end date) does not undo it
    let mut stale = fixtures::agency(AGENCY, "Sở Tư pháp (đổi tên)");
    stale.valid_until = None;
    store.agencies.upsert(&[stale]).await.unwrap();
    let kept = store.agencies.get(&code(AGENCY)).await.unwrap().unwrap();
    assert_eq!(kept.name.as_str(), "Sở Tư pháp (đổi tên)");
    assert_eq!(
        (kept.valid_until, kept.successor),
        (Some(date!(2025 - 06 - 30)), Some(code(OTHER_AGENCY)))
    );
    // the same merger again moves nothing twice
    let again = store.agencies.merge(&merger).await.unwrap();
    assert!(
        again.moved.is_empty() && again.levels_carried.is_empty(),
        "{again:?}"
    );
    assert_eq!(store.dossiers.history(open.id).await.unwrap().len(), 2);
}

async fn a_merger_is_refused_when_it_cannot_hold(store: &Store) {
    use motcua_store::Merger;
    let dossier = submitted_dossier(store).await;
    store
        .agencies
        .upsert(&[fixtures::agency("000.00.08.H56", "Sở Nội vụ")])
        .await
        .unwrap();
    let merger = |retired: &str, successor: &str| Merger {
        retired: code(retired),
        successor: code(successor),
        effective: date!(2025 - 07 - 01),
        at: datetime!(2025-07-01 01:00 UTC),
        actor: "admin".into(),
    };
    // a unit of the agency cannot be its successor
    let mut unit = fixtures::agency("000.17.06.H56", "Phòng Hộ tịch");
    unit.parent = Some(code(AGENCY));
    store.agencies.upsert(&[unit]).await.unwrap();
    for (bad, what) in [
        (merger(AGENCY, "000.17.06.H56"), "into its own unit"),
        (
            Merger {
                effective: date!(2025 - 07 - 02),
                ..merger(AGENCY, OTHER_AGENCY)
            },
            "on a day still to come",
        ),
        (merger(AGENCY, AGENCY), "into itself"),
        (merger(AGENCY, "000.99.99.H56"), "into an unknown agency"),
        (
            Merger {
                effective: date!(2019 - 01 - 01),
                ..merger(AGENCY, OTHER_AGENCY)
            },
            "before the agency began",
        ),
    ] {
        let err = store.agencies.merge(&bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Constraint(_)), "{what}: {err:?}");
    }
    // nothing moved by the refusals
    assert_eq!(
        store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .agency,
        code(AGENCY)
    );
    store
        .agencies
        .merge(&merger(AGENCY, OTHER_AGENCY))
        .await
        .unwrap();
    // merged already into another successor, or back into the agency it was merged into
    let err = store
        .agencies
        .merge(&merger(AGENCY, "000.00.08.H56"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .agencies
        .merge(&merger(OTHER_AGENCY, AGENCY))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
}

async fn the_synonym_table_is_replaced_whole_and_every_node_notices(store: &Store) {
    use motcua_store::SynonymTable;
    assert_eq!(store.search_log.synonyms().await.unwrap(), None);
    let version = store.catalogue.catalogue_version().await.unwrap();
    let table = |text: &str| SynonymTable {
        text: text.into(),
        saved_at: datetime!(2026-11-29 07:00 UTC),
        saved_by: "editor".into(),
    };
    store
        .search_log
        .save_synonyms(&table("cccd | căn cước"))
        .await
        .unwrap();
    store
        .search_log
        .save_synonyms(&table("gplx | bằng lái"))
        .await
        .unwrap();
    assert_eq!(
        store.search_log.synonyms().await.unwrap(),
        Some(table("gplx | bằng lái"))
    );
    assert!(store.catalogue.catalogue_version().await.unwrap() > version);
}

async fn a_version_saved_ahead_applies_from_its_day(store: &Store) {
    fixtures::seed_minimal(store).await;
    let code = ProcedureCode::parse(PROCEDURE).unwrap();
    let v1 = store.catalogue.get_procedure(&code).await.unwrap().unwrap();
    let at = datetime!(2026-11-29 03:00 UTC);
    let mut dearer = v1.procedure.clone();
    dearer.cases[0].fees[0].amount = motcua_domain::Vnd::new(150_000).unwrap();
    let ahead = store
        .catalogue
        .save_procedure_from(&dearer, at, date!(2027 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(ahead, 2);
    // saved, not yet in force
    assert_eq!(
        store
            .catalogue
            .get_procedure(&code)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    let versions = store.catalogue.versions(&code).await.unwrap();
    assert_eq!(versions[1].effective_from, date!(2027 - 01 - 01));
    // the same record again changes nothing, even for another day
    assert_eq!(
        store
            .catalogue
            .save_procedure_from(&dearer, at, date!(2027 - 02 - 01))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .catalogue
            .promote_due(date!(2026 - 12 - 31))
            .await
            .unwrap(),
        0
    );
    let before = store.catalogue.catalogue_version().await.unwrap();
    assert_eq!(
        store
            .catalogue
            .promote_due(date!(2027 - 01 - 01))
            .await
            .unwrap(),
        1
    );
    assert!(store.catalogue.catalogue_version().await.unwrap() > before);
    let now = store.catalogue.get_procedure(&code).await.unwrap().unwrap();
    assert_eq!((now.version, now.procedure), (2, dearer));
    // again: nothing more to do
    assert_eq!(
        store
            .catalogue
            .promote_due(date!(2027 - 01 - 02))
            .await
            .unwrap(),
        0
    );
    // a node whose clock lags never goes back
    assert_eq!(
        store
            .catalogue
            .promote_due(date!(2026 - 12 - 31))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .catalogue
            .get_procedure(&code)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

async fn a_content_page_is_replaced_whole(store: &Store) {
    use motcua_store::ContentPage;
    assert_eq!(store.content.page("lien-he").await.unwrap(), None);
    let page = |title: &str| ContentPage {
        slug: "lien-he".into(),
        title: title.into(),
        body: "Số 8 Lê Lợi".into(),
        saved_at: datetime!(2026-11-29 07:00 UTC),
        saved_by: "editor".into(),
    };
    store.content.save_page(&page("Liên hệ")).await.unwrap();
    store
        .content
        .save_page(&page("Liên hệ với chúng tôi"))
        .await
        .unwrap();
    assert_eq!(
        store.content.page("lien-he").await.unwrap(),
        Some(page("Liên hệ với chúng tôi"))
    );
    assert_eq!(store.content.page("tro-giup").await.unwrap(), None);
}

async fn the_emails_to_an_address_are_listed_newest_first_with_whether_they_went(store: &Store) {
    fixtures::seed_minimal(store).await;
    let a = citizen();
    store.accounts.create(&a).await.unwrap();
    let draft = draft_for(a.id);
    store.submissions.save_draft(&draft).await.unwrap();
    // the submission's e-mail, its code filled in
    let d = store
        .submissions
        .submit(&submission_of(&draft))
        .await
        .unwrap();
    let later = motcua_domain::submission::OutgoingEmail {
        to: "AN@Example.vn".into(),
        subject: "Hồ sơ sắp đến hạn".into(),
        body: "Nhắc việc".into(),
    };
    let at = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    assert!(
        store
            .outbox
            .enqueue_email_once("nhac:an", &later, at)
            .await
            .unwrap()
    );
    // an address not proved theirs: only the mail about their own dossiers
    let unverified = store
        .outbox
        .emails_to(a.id, " an@example.VN ", None, 10)
        .await
        .unwrap();
    assert_eq!(unverified.len(), 1, "{unverified:?}");
    assert_eq!(unverified[0].subject, format!("Đã nhận hồ sơ {}", d.code));
    // someone else who typed that address into their profile sees none of it
    let b = motcua_domain::Account {
        id: motcua_domain::AccountId::new(),
        full_name: NonEmptyText::parse("Người Khác").unwrap(),
        personal_id: None,
        phone: Some(motcua_domain::Phone::parse("0977000111").unwrap()),
        email: None,
        ..a.clone()
    };
    store.accounts.create(&b).await.unwrap();
    assert!(
        store
            .outbox
            .emails_to(b.id, "an@example.vn", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // verified before both: everything sent to it since, newest first
    let verified = Some(OffsetDateTime::now_utc() - time::Duration::hours(1));
    let to_an = store
        .outbox
        .emails_to(a.id, "an@example.vn", verified, 10)
        .await
        .unwrap();
    assert_eq!(to_an.len(), 2, "{to_an:?}");
    assert_eq!(to_an[0].subject, "Hồ sơ sắp đến hạn");
    assert!(to_an.iter().all(|m| m.sent_at.is_none() && !m.given_up));
    assert_eq!(
        store
            .outbox
            .emails_to(a.id, "an@example.vn", verified, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .outbox
            .emails_to(a.id, "khac@example.vn", verified, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // once the relay took them, they say when
    let now = OffsetDateTime::now_utc() + time::Duration::hours(1);
    for job in store
        .outbox
        .claim(now, time::Duration::minutes(1), 10)
        .await
        .unwrap()
    {
        store.outbox.complete(job.id, now).await.unwrap();
    }
    let sent = store
        .outbox
        .emails_to(a.id, "an@example.vn", verified, 10)
        .await
        .unwrap();
    assert!(sent.iter().all(|m| m.sent_at.is_some()), "{sent:?}");
}

async fn a_visitor_counts_once_a_day_whichever_node_saw_them(store: &Store) {
    let day = date!(2026 - 11 - 28);
    // every node gets the salt the first one stored
    let salt = store.visits.salt(day, "muoi-a").await.unwrap();
    assert_eq!(salt, "muoi-a");
    assert_eq!(store.visits.salt(day, "muoi-b").await.unwrap(), "muoi-a");
    let at = datetime!(2026-11-28 03:00:00 UTC);
    let seen = |hash: &str, minutes: i64| (hash.to_string(), at + time::Duration::minutes(minutes));
    // node A, then node B with one visitor in common and one seen again later
    assert_eq!(
        store
            .visits
            .record(day, &[seen("a1", 0), seen("a2", 0)])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .visits
            .record(day, &[seen("a2", 10), seen("b1", 10)])
            .await
            .unwrap(),
        1
    );
    // the next day: one of them again, counted again that day
    let next = date!(2026 - 11 - 29);
    let next_at = datetime!(2026-11-29 03:00:00 UTC);
    assert_eq!(
        store
            .visits
            .record(next, &[("a1".to_string(), next_at)])
            .await
            .unwrap(),
        1
    );
    // a day of another month counts in the total only
    store
        .visits
        .record(
            date!(2026 - 10 - 31),
            &[("x".to_string(), at - time::Duration::days(28))],
        )
        .await
        .unwrap();
    let counts = store
        .visits
        .counts(day, at + time::Duration::minutes(5))
        .await
        .unwrap();
    // online: seen since 03:05 on the 28th — a2 and b1 at 03:10, and a1 on the 29th
    assert_eq!(
        counts,
        motcua_store::VisitCounts {
            online: 3,
            today: 3,
            month: 3,
            total: 5
        }
    );
    assert_eq!(store.visits.counts(next, next_at).await.unwrap().today, 1);
    // two days later the visitors and salts of before are forgotten, the counts per day stay
    assert_eq!(store.visits.forget_before(next).await.unwrap(), 4);
    assert_eq!(store.visits.salt(day, "muoi-c").await.unwrap(), "muoi-c");
    let after = store.visits.counts(next, next_at).await.unwrap();
    assert_eq!((after.today, after.month, after.total), (1, 4, 5));
}

async fn handled_dossiers_are_listed_newest_approval_first_with_their_filters(store: &Store) {
    fixtures::seed_minimal(store).await;
    let mut made = Vec::new();
    for _ in 0..3 {
        let code = store
            .codes
            .reserve(&code(AGENCY), date!(2023 - 10 - 27))
            .await
            .unwrap();
        made.push(store.dossiers.create(&new_dossier(code)).await.unwrap());
    }
    // walk each through reception; the first two get a result (approved on the 2nd and the 3rd of November)
    let step = |d: &motcua_domain::Dossier, from, to, at| {
        Transition::new(d.id, from, to, at, "officer:7")
            .unwrap()
            .with_due_at(datetime!(2023-11-03 10:00 UTC))
    };
    use DossierStatus::*;
    for (i, d) in made.iter().enumerate() {
        let day = datetime!(2023-10-27 03:00 UTC);
        store
            .dossiers
            .record_transition(&step(d, Submitted, Received, day))
            .await
            .unwrap();
        store
            .dossiers
            .record_transition(&step(
                d,
                Received,
                Processing,
                day + time::Duration::hours(1),
            ))
            .await
            .unwrap();
        if i < 2 {
            let approved = datetime!(2023-11-02 03:00 UTC) + time::Duration::days(i as i64);
            store
                .dossiers
                .record_transition(&step(d, Processing, Processed, approved))
                .await
                .unwrap();
        }
    }
    store
        .dossiers
        .record_transition(&step(
            &made[0],
            Processed,
            ResultDelivered,
            datetime!(2023-11-05 03:00 UTC),
        ))
        .await
        .unwrap();
    let all = motcua_store::HandledQuery {
        limit: 10,
        count: true,
        ..Default::default()
    };
    let (list, total) = store.dossiers.handled(&all).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        list.iter().map(|h| h.dossier.id).collect::<Vec<_>>(),
        [made[1].id, made[0].id],
        "the latest approval first"
    );
    assert_eq!(list[1].approved_at, datetime!(2023-11-02 03:00 UTC));
    assert_eq!(list[1].received_at, Some(datetime!(2023-10-27 03:00 UTC)));
    assert_eq!(list[1].dossier.status, ResultDelivered);
    // paged, by month of approval, by agency, by procedures
    let page_2 = motcua_store::HandledQuery {
        offset: 1,
        limit: 1,
        ..all.clone()
    };
    let (second, total) = store.dossiers.handled(&page_2).await.unwrap();
    assert_eq!(
        (second.len(), total, second[0].dossier.id),
        (1, 2, made[0].id)
    );
    let october = motcua_store::HandledQuery {
        approved_from: Some(datetime!(2023-10-01 00:00 UTC)),
        approved_to: Some(datetime!(2023-11-02 12:00 UTC)),
        ..all.clone()
    };
    let (early, total) = store.dossiers.handled(&october).await.unwrap();
    assert_eq!((total, early[0].dossier.id), (1, made[0].id));
    let elsewhere = motcua_store::HandledQuery {
        agency: Some(code(OTHER_AGENCY)),
        ..all.clone()
    };
    assert_eq!(store.dossiers.handled(&elsewhere).await.unwrap().1, 0);
    let none_of = motcua_store::HandledQuery {
        procedures: Some(vec![]),
        ..all.clone()
    };
    assert_eq!(store.dossiers.handled(&none_of).await.unwrap().1, 0);
    let of_it = motcua_store::HandledQuery {
        agency: Some(code(AGENCY)),
        procedures: Some(vec![ProcedureCode::parse(PROCEDURE).unwrap()]),
        ..all.clone()
    };
    assert_eq!(store.dossiers.handled(&of_it).await.unwrap().1, 2);
    // the latest few, uncounted
    let widget = motcua_store::HandledQuery {
        limit: 1,
        ..Default::default()
    };
    let (latest, uncounted) = store.dossiers.handled(&widget).await.unwrap();
    assert_eq!((latest[0].dossier.id, uncounted), (made[1].id, 0));
}

async fn statistics_count_each_dossier_where_it_belongs(store: &Store) {
    use motcua_domain::rating::{Rating, Satisfaction};
    fixtures::seed_minimal(store).await;
    let day = datetime!(2023-11-01 02:00 UTC);
    let mut made = Vec::new();
    for channel in [
        Channel::Online,
        Channel::InPerson,
        Channel::Post,
        Channel::Online,
    ] {
        let code = store
            .codes
            .reserve(&code(AGENCY), date!(2023 - 11 - 01))
            .await
            .unwrap();
        let mut new = new_dossier(code);
        new.channel = channel;
        new.created_at = day;
        made.push(store.dossiers.create(&new).await.unwrap());
    }
    // one submitted in October: not in November's figures
    let october_code = store
        .codes
        .reserve(&code(AGENCY), date!(2023 - 10 - 20))
        .await
        .unwrap();
    let mut october = new_dossier(october_code);
    october.created_at = datetime!(2023-10-20 02:00 UTC);
    store.dossiers.create(&october).await.unwrap();
    let due = datetime!(2023-11-08 10:00 UTC);
    let go = |d: &motcua_domain::Dossier, from, to, at| {
        Transition::new(d.id, from, to, at, "officer:7")
            .unwrap()
            .with_due_at(due)
    };
    use DossierStatus::*;
    for d in &made[..3] {
        store
            .dossiers
            .record_transition(&go(d, Submitted, Received, day))
            .await
            .unwrap();
        store
            .dossiers
            .record_transition(&go(d, Received, Processing, day))
            .await
            .unwrap();
    }
    // approved on time, approved late, still in progress (and overdue on the 20th)
    store
        .dossiers
        .record_transition(&go(
            &made[0],
            Processing,
            Processed,
            datetime!(2023-11-07 03:00 UTC),
        ))
        .await
        .unwrap();
    store
        .dossiers
        .record_transition(&go(
            &made[1],
            Processing,
            Processed,
            datetime!(2023-11-09 03:00 UTC),
        ))
        .await
        .unwrap();
    store
        .dossiers
        .record_transition(&go(
            &made[0],
            Processed,
            ResultDelivered,
            datetime!(2023-11-10 03:00 UTC),
        ))
        .await
        .unwrap();
    store
        .ratings
        .rate(&Rating {
            dossier: made[0].id,
            level: Satisfaction::VerySatisfied,
            comment: None,
            at: datetime!(2023-11-10 04:00 UTC),
            account: None,
        })
        .await
        .unwrap();
    let stats = store
        .stats
        .by_agency(
            datetime!(2023-10-31 17:00 UTC),
            datetime!(2023-11-30 17:00 UTC),
            datetime!(2023-11-20 03:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].agency, code(AGENCY));
    let s = &stats[0].figures;
    assert_eq!((s.online, s.in_person, s.post, s.submitted()), (2, 1, 1, 4));
    assert_eq!((s.on_time, s.late), (1, 1));
    // open: the one in progress (overdue) and the October one still waiting is not received yet
    assert_eq!((s.in_progress, s.overdue), (1, 1));
    assert_eq!((s.ratings, s.satisfied), (1, 1));
    // the same figures from the dossiers one by one
    let mut on_time = 0;
    let mut late = 0;
    for d in &made {
        let history = store.dossiers.history(d.id).await.unwrap();
        if let Some(e) = history.iter().find(|e| e.to == Processed) {
            if e.at <= due { on_time += 1 } else { late += 1 }
        }
    }
    assert_eq!((on_time, late), (s.on_time, s.late));
    // nothing attached, no result file, no fee in this month
    assert_eq!(
        (s.digitised, s.e_results, s.fee_bearing, s.paid_online),
        (0, 0, 0, 0)
    );
    // the dossiers behind each gap of the index, the same ones the figures count
    use motcua_store::Gap;
    let gap = |g| async move {
        let mut ids: Vec<_> = store
            .stats
            .gap(
                &code(AGENCY),
                g,
                datetime!(2023-10-31 17:00 UTC),
                datetime!(2023-11-30 17:00 UTC),
                datetime!(2023-11-20 03:00 UTC),
                100,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        ids.sort_by_key(|i| i.0);
        ids
    };
    let sorted = |mut v: Vec<DossierId>| {
        v.sort_by_key(|i| i.0);
        v
    };
    assert_eq!(gap(Gap::HandledLate).await, vec![made[1].id]);
    assert_eq!(gap(Gap::Overdue).await, vec![made[2].id]);
    assert_eq!(
        gap(Gap::NotOnline).await,
        sorted(vec![made[1].id, made[2].id])
    );
    assert_eq!(gap(Gap::NotDigitised).await.len() as u64, s.submitted());
    assert_eq!(
        gap(Gap::NoElectronicResult).await,
        sorted(vec![made[0].id, made[1].id])
    );
    assert!(gap(Gap::Unsatisfied).await.is_empty());
    assert!(gap(Gap::NotPaidOnline).await.is_empty());
    // another agency's dossiers are never listed
    assert!(
        store
            .stats
            .gap(
                &code(OTHER_AGENCY),
                Gap::NotDigitised,
                datetime!(2023-10-31 17:00 UTC),
                datetime!(2023-11-30 17:00 UTC),
                datetime!(2023-11-20 03:00 UTC),
                100,
            )
            .await
            .unwrap()
            .is_empty()
    );
}

fn article_copy(
    author: motcua_domain::AccountId,
    title: &str,
    at: OffsetDateTime,
) -> motcua_store::ArticleCopy {
    motcua_store::ArticleCopy {
        version: 1,
        category: motcua_domain::article::Category::Guidance,
        title: title.into(),
        summary: "Tóm tắt".into(),
        body: "<p>Nội dung</p>".into(),
        procedures: vec![PROCEDURE.into()],
        saved_by: author,
        saved_at: at,
        publish_at: None,
        unpublish_at: None,
    }
}

async fn new_article(store: &Store, title: &str) -> (uuid::Uuid, motcua_domain::AccountId) {
    let editor = citizen();
    store.accounts.create(&editor).await.unwrap();
    let id = uuid::Uuid::now_v7();
    store
        .articles
        .create(&motcua_store::NewArticle {
            id,
            slug: format!("bai-{id}"),
            copy: article_copy(editor.id, title, datetime!(2026-11-20 01:00 UTC)),
        })
        .await
        .unwrap();
    (id, editor.id)
}

async fn an_article_is_read_in_its_approved_version_while_editors_write_the_next(store: &Store) {
    use motcua_domain::article::{Status, Step};
    use motcua_store::Review;
    let (id, editor) = new_article(store, "Bản một").await;
    let at = datetime!(2026-11-21 01:00 UTC);
    assert!(
        store.articles.live().await.unwrap().is_empty(),
        "a draft is nobody's reading"
    );
    let v2 = store
        .articles
        .save(id, 1, &article_copy(editor, "Bản hai", at), at)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    // someone who opened version 1 cannot overwrite version 2
    assert!(matches!(
        store
            .articles
            .save(id, 1, &article_copy(editor, "Cũ", at), at)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let review = |step, version| Review {
        id,
        version,
        step,
        by: editor,
        note: Some("Sửa tiêu đề".into()),
        at,
    };
    // approving a draft that was never submitted is refused
    assert!(matches!(
        store.articles.review(&review(Step::Approve, 2)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .articles
            .review(&review(Step::Submit, 2))
            .await
            .unwrap(),
        Status::Submitted
    );
    assert_eq!(
        store
            .articles
            .review(&review(Step::Return, 2))
            .await
            .unwrap(),
        Status::Returned
    );
    let returned = store.articles.get(id).await.unwrap().unwrap();
    assert_eq!(returned.review_note.as_deref(), Some("Sửa tiêu đề"));
    store
        .articles
        .review(&review(Step::Submit, 2))
        .await
        .unwrap();
    // an approval of a version that is no longer the editors' copy is refused
    assert!(matches!(
        store.articles.review(&review(Step::Approve, 1)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .articles
            .review(&review(Step::Approve, 2))
            .await
            .unwrap(),
        Status::Approved
    );
    let live = store.articles.live().await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].title.as_str(), live[0].version), ("Bản hai", 2));
    assert_eq!(
        live[0].publish_at, at,
        "published at approval when no time was set"
    );
    assert_eq!(live[0].procedures, vec![PROCEDURE.to_string()]);
    // the next version is written while readers keep the approved one
    let later = datetime!(2026-11-22 01:00 UTC);
    store
        .articles
        .save(id, 2, &article_copy(editor, "Bản ba", later), later)
        .await
        .unwrap();
    let live = store.articles.live().await.unwrap();
    assert_eq!(live[0].title, "Bản hai");
    let article = store.articles.get(id).await.unwrap().unwrap();
    assert_eq!(article.status, Status::Draft);
    assert_eq!(article.copy.title, "Bản ba");
    assert_eq!(article.live_version, Some(2));
    let versions = store.articles.versions(id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    assert_eq!(
        store.articles.version(id, 2).await.unwrap().unwrap().body,
        "<p>Nội dung</p>"
    );
    let (listed, total) = store
        .articles
        .list(Some(Status::Draft), 10, 0)
        .await
        .unwrap();
    assert_eq!((listed.len(), total), (1, 1));
    assert_eq!(
        store
            .articles
            .list(Some(Status::Submitted), 10, 0)
            .await
            .unwrap()
            .1,
        0
    );
    // approving the correction (even one that asks for a later time) keeps the article where readers have it,
    // under its first publication date
    let next_week = datetime!(2026-11-29 01:00 UTC);
    store
        .articles
        .save(
            id,
            3,
            &motcua_store::ArticleCopy {
                publish_at: Some(next_week),
                ..article_copy(editor, "Bản bốn", later)
            },
            later,
        )
        .await
        .unwrap();
    let review4 = |step| Review {
        id,
        version: 4,
        step,
        by: editor,
        note: None,
        at: later,
    };
    store.articles.review(&review4(Step::Submit)).await.unwrap();
    store
        .articles
        .review(&review4(Step::Approve))
        .await
        .unwrap();
    let live = store.articles.live().await.unwrap();
    assert_eq!(
        (live[0].title.as_str(), live[0].publish_at),
        ("Bản bốn", at)
    );
    store.articles.unpublish(id, editor, later).await.unwrap();
    assert!(store.articles.live().await.unwrap().is_empty());
    assert!(matches!(
        store.articles.unpublish(id, editor, later).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_reader_votes_once_per_article_and_an_address_once_a_day(store: &Store) {
    use motcua_store::{Vote, VoteOutcome};
    let (id, _) = new_article(store, "Bình chọn").await;
    let vote = |voter: &str, address: &str, day, stars| Vote {
        article: id,
        voter: voter.into(),
        day,
        address: address.into(),
        stars,
        at: datetime!(2026-11-21 01:00 UTC),
    };
    let today = date!(2026 - 11 - 21);
    assert_eq!(
        store
            .articles
            .vote(&vote("a", "nha-1", today, 4))
            .await
            .unwrap(),
        VoteOutcome::Counted
    );
    assert_eq!(
        store
            .articles
            .vote(&vote("a", "nha-1", today, 5))
            .await
            .unwrap(),
        VoteOutcome::Changed
    );
    // a second reader (a fresh cookie) from the same address the same day is not counted
    assert_eq!(
        store
            .articles
            .vote(&vote("b", "nha-1", today, 1))
            .await
            .unwrap(),
        VoteOutcome::AddressUsedToday
    );
    assert_eq!(
        store
            .articles
            .vote(&vote("b", "nha-2", today, 3))
            .await
            .unwrap(),
        VoteOutcome::Counted
    );
    assert_eq!(
        store
            .articles
            .vote(&vote("c", "nha-1", date!(2026 - 11 - 22), 2))
            .await
            .unwrap(),
        VoteOutcome::Counted
    );
    let article = store.articles.get(id).await.unwrap().unwrap();
    assert_eq!((article.stars_sum, article.stars_count), (5 + 3 + 2, 3));
    // the constraint holds even when two votes race
    let (d, e) = (vote("d", "nha-3", today, 5), vote("e", "nha-3", today, 5));
    let (x, y) = tokio::join!(store.articles.vote(&d), store.articles.vote(&e));
    let counted = [x, y]
        .into_iter()
        .filter(|r| matches!(r, Ok(VoteOutcome::Counted)))
        .count();
    assert_eq!(counted, 1);
    let article = store.articles.get(id).await.unwrap().unwrap();
    assert_eq!((article.stars_sum, article.stars_count), (15, 4));
}

async fn a_comment_waits_for_an_editor_and_its_writer_is_told(store: &Store) {
    use motcua_domain::article::CommentStatus;
    use motcua_store::{Moderation, NewComment};
    let (id, editor) = new_article(store, "Góp ý").await;
    let comment = |status, email: Option<&str>| NewComment {
        id: uuid::Uuid::now_v7(),
        article: id,
        name: "Trần Thị Bình".into(),
        email: email.map(str::to_string),
        body: "<script>alert(1)</script> Cảm ơn".into(),
        status,
        account: None,
        at: datetime!(2026-11-21 01:00 UTC),
    };
    let held = comment(CommentStatus::Held, Some("binh@example.vn"));
    store.articles.comment(&held).await.unwrap();
    store
        .articles
        .comment(&comment(CommentStatus::Published, None))
        .await
        .unwrap();
    let article = store.articles.get(id).await.unwrap().unwrap();
    assert_eq!(article.comments, 1, "only published comments are counted");
    let (waiting, total) = store.articles.held_comments(10).await.unwrap();
    assert_eq!((waiting.len(), total), (1, 1));
    assert_eq!(
        waiting[0].body, held.body,
        "stored as typed; pages escape it"
    );
    assert_eq!(waiting[0].article_title, "Góp ý");
    assert_eq!(
        store
            .articles
            .held_comment(held.id)
            .await
            .unwrap()
            .map(|c| c.email),
        Some(Some("binh@example.vn".to_string()))
    );
    let decided = store
        .articles
        .moderate(&Moderation {
            comment: held.id,
            publish: true,
            reason: None,
            by: editor,
            at: datetime!(2026-11-21 02:00 UTC),
            email: Some(motcua_domain::submission::OutgoingEmail {
                to: "binh@example.vn".into(),
                subject: "Bình luận đã được đăng".into(),
                body: "…".into(),
            }),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decided.status, CommentStatus::Published);
    // a second decision on the same comment changes nothing
    assert!(
        store
            .articles
            .moderate(&Moderation {
                comment: held.id,
                publish: false,
                reason: Some("Trùng".into()),
                by: editor,
                at: datetime!(2026-11-21 03:00 UTC),
                email: Some(motcua_domain::submission::OutgoingEmail {
                    to: "binh@example.vn".into(),
                    subject: "Bình luận không được đăng".into(),
                    body: "…".into(),
                }),
            })
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.articles.get(id).await.unwrap().unwrap().comments, 2);
    assert!(
        store
            .articles
            .held_comment(held.id)
            .await
            .unwrap()
            .is_none()
    );
    let published = store
        .articles
        .comments(id, CommentStatus::Published, 10)
        .await
        .unwrap();
    assert_eq!(published.len(), 2);
    let mail = store
        .outbox
        .emails_to(
            editor,
            "binh@example.vn",
            Some(datetime!(2026-01-01 00:00 UTC)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(mail.len(), 1, "the commenter is told in the same commit");
}

async fn a_site_key_is_made_once_for_every_node(store: &Store) {
    let first = store.articles.site_key("doc-gia", "khoa-a").await.unwrap();
    assert_eq!(first, "khoa-a");
    assert_eq!(
        store.articles.site_key("doc-gia", "khoa-b").await.unwrap(),
        "khoa-a"
    );
}

/// One dossier's random life for the statistics property: where and how it came, when, and how far it went.
#[derive(Debug, Clone)]
struct Life {
    other_agency: bool,
    channel: u8,
    /// Minutes after 1 October 2023 00:00 UTC (about three months).
    created: u32,
    received_after: Option<u32>,
    approved_after: Option<u32>,
    due_after: u32,
    /// Stars given this many minutes after approval.
    rating: Option<(u8, u32)>,
    /// A result entered after approval: with its file at once, or first without and its file in a correction.
    result: Option<bool>,
}

fn life() -> impl proptest::strategy::Strategy<Value = Life> {
    use proptest::prelude::*;
    (
        any::<bool>(),
        0u8..3,
        0u32..(92 * 24 * 60),
        proptest::option::weighted(0.9, 0u32..(3 * 24 * 60)),
        proptest::option::weighted(0.8, 0u32..(40 * 24 * 60)),
        0u32..(20 * 24 * 60),
        proptest::option::of((1u8..=5, 0u32..(20 * 24 * 60))),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(
                other_agency,
                channel,
                created,
                received_after,
                approved_after,
                due_after,
                rating,
                result,
            )| Life {
                other_agency,
                channel,
                created,
                received_after,
                approved_after,
                due_after,
                rating,
                result,
            },
        )
}

/// Figures per agency without the empty ones (a recounted month may keep a row of zeros).
fn nonzero(
    stats: Vec<motcua_store::AgencyStats>,
) -> Vec<((String, String), motcua_store::Figures)> {
    let mut v: Vec<_> = stats
        .into_iter()
        .filter(|s| s.figures != motcua_store::Figures::default())
        .map(|s| ((s.agency.to_string(), s.procedure), s.figures))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The property of ADR 0009: whatever happens to dossiers, in whatever order, the figures kept by month equal a
/// direct count once the worker has recounted what changed — also when it recounts halfway through.
async fn monthly_statistics_equal_a_direct_count_after_random_histories(store: &Store) {
    use DossierStatus::*;
    use motcua_domain::rating::{Rating, Satisfaction};
    use motcua_domain::workflow::{DossierResult, ResultFile};
    use proptest::strategy::{Strategy, ValueTree};
    /// What happens to a dossier after the months were recounted.
    enum Later {
        File(Box<DossierResult>),
        Rating(Rating),
    }
    fixtures::seed_minimal(store).await;
    // a second procedure: the figures are kept per agency and procedure
    const SECOND: &str = "1.000894";
    store
        .catalogue
        .save_procedure(
            &fixtures::procedure(SECOND, "Đăng ký kết hôn", AGENCY),
            datetime!(2023-01-01 00:00 UTC),
        )
        .await
        .unwrap();
    let mut later: Vec<Later> = Vec::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let start = datetime!(2023-10-01 00:00 UTC);
    let now = datetime!(2024-01-15 03:00 UTC);
    for case in 0..6 {
        let lives = proptest::collection::vec(life(), 5..25)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        for (n, l) in lives.iter().enumerate() {
            let created = start + time::Duration::minutes(i64::from(l.created));
            let agency = if l.other_agency { OTHER_AGENCY } else { AGENCY };
            let day = motcua_domain::vntime::vn_date(created);
            let c = store.codes.reserve(&code(agency), day).await.unwrap();
            let mut new = new_dossier(c);
            new.channel =
                [Channel::Online, Channel::InPerson, Channel::Post][usize::from(l.channel)];
            if l.created % 3 == 0 {
                new.procedure = ProcedureCode::parse(SECOND).unwrap();
            }
            new.created_at = created;
            let d = store.dossiers.create(&new).await.unwrap();
            // a recount in the middle: what changes after it is marked again
            if n == lives.len() / 2 {
                store.stats.refresh(1_000).await.unwrap();
            }
            let Some(received_after) = l.received_after else {
                continue;
            };
            let received = created + time::Duration::minutes(i64::from(received_after));
            let due = received + time::Duration::minutes(i64::from(l.due_after));
            let go = |from, to, at| {
                Transition::new(d.id, from, to, at, "officer:7")
                    .unwrap()
                    .with_due_at(due)
            };
            store
                .dossiers
                .record_transition(&go(Submitted, Received, received))
                .await
                .unwrap();
            store
                .dossiers
                .record_transition(&go(Received, Processing, received))
                .await
                .unwrap();
            let Some(approved_after) = l.approved_after else {
                continue;
            };
            let approved = received + time::Duration::minutes(i64::from(approved_after));
            store
                .dossiers
                .record_transition(&go(Processing, Processed, approved))
                .await
                .unwrap();
            if let Some(with_file) = l.result {
                let file = ResultFile {
                    object_key: format!("ket-qua/{}", d.id.0),
                    file_name: "ket-qua.pdf".into(),
                    file_type: "application/pdf".into(),
                    size: 1234,
                    sha256: "ab".repeat(32),
                    seal: None,
                };
                let result = DossierResult {
                    dossier: d.id,
                    document_number: "1/GCN".into(),
                    signer: "Lê Văn Ký".into(),
                    signed_on: date!(2023 - 12 - 01),
                    file: with_file.then(|| file.clone()),
                    entered_by: "officer:7".into(),
                    entered_at: approved,
                };
                store.workflows.save_result(&result).await.unwrap();
                if !with_file {
                    // its file comes later, in a correction
                    later.push(Later::File(Box::new(DossierResult {
                        file: Some(file),
                        entered_at: approved + time::Duration::days(45),
                        ..result
                    })));
                }
            }
            if let Some((level, rated_after)) = l.rating {
                store
                    .dossiers
                    .record_transition(&go(Processed, ResultDelivered, approved))
                    .await
                    .unwrap();
                later.push(Later::Rating(Rating {
                    dossier: d.id,
                    level: Satisfaction::from_score(i64::from(level)).unwrap(),
                    comment: None,
                    at: approved + time::Duration::minutes(i64::from(rated_after)),
                    account: None,
                }));
            }
        }
        // what comes after every month was recounted must mark its month again by itself: the corrected results
        // first, then the ratings, each followed by a recount and the comparison
        let (files, ratings): (Vec<_>, Vec<_>) =
            later.drain(..).partition(|a| matches!(a, Later::File(_)));
        for (phase, actions) in [("before", vec![]), ("files", files), ("ratings", ratings)] {
            for action in actions {
                match action {
                    Later::File(result) => store.workflows.save_result(&result).await.unwrap(),
                    Later::Rating(rating) => {
                        store.ratings.rate(&rating).await.unwrap();
                    }
                }
            }
            while store.stats.refresh(1_000).await.unwrap() > 0 {}
            for first in [
                date!(2023 - 10 - 01),
                date!(2023 - 11 - 01),
                date!(2023 - 12 - 01),
                date!(2024 - 01 - 01),
                date!(2024 - 02 - 01),
            ] {
                let next = if first.month() == time::Month::December {
                    date!(2024 - 01 - 01)
                } else {
                    first.replace_month(first.month().next()).unwrap()
                };
                let direct = store
                    .stats
                    .by_agency(
                        motcua_domain::vntime::start_of_day(first),
                        motcua_domain::vntime::start_of_day(next),
                        now,
                    )
                    .await
                    .unwrap();
                let kept = store.stats.by_month(first, now).await.unwrap();
                assert_eq!(
                    nonzero(kept),
                    nonzero(direct),
                    "case {case}, {phase}, month of {first}"
                );
            }
        }
    }
}

async fn api_clients_keep_keys_as_hashes_and_log_calls(store: &Store) {
    use motcua_domain::api_client::{ApiCall, ApiClient, ApiClientId, ApiKey, Scope, key_hash};
    fixtures::seed_minimal(store).await;
    let at = datetime!(2026-11-30 03:00 UTC);
    let client = ApiClient {
        id: ApiClientId::new(),
        name: NonEmptyText::parse("Hệ thống Sở Tư pháp").unwrap(),
        agencies: vec![code(AGENCY), code(OTHER_AGENCY)],
        scopes: vec![Scope::Read, Scope::Receive],
        per_minute: 120,
        created_at: at,
        created_by: "Quản trị (x)".into(),
        disabled_at: None,
    };
    store
        .api_clients
        .create_client(&client, &a_key(client.id, at))
        .await
        .unwrap();
    assert_eq!(
        store.api_clients.client(client.id).await.unwrap(),
        Some(client.clone())
    );
    assert_eq!(
        store.api_clients.client(ApiClientId::new()).await.unwrap(),
        None
    );
    let later = ApiClient {
        id: ApiClientId::new(),
        name: NonEmptyText::parse("Nền tảng dữ liệu").unwrap(),
        agencies: vec![code(AGENCY)],
        scopes: vec![Scope::Read],
        created_at: at + time::Duration::minutes(1),
        ..client.clone()
    };
    store
        .api_clients
        .create_client(&later, &a_key(later.id, at))
        .await
        .unwrap();
    let all = store.api_clients.clients().await.unwrap();
    assert_eq!(all, vec![later.clone(), client.clone()], "newest first");

    let key = |text: &str, created: OffsetDateTime| ApiKey {
        hash: key_hash(text),
        client: client.id,
        hint: text[..13].to_string(),
        created_at: created,
        expires_at: created + time::Duration::days(365),
        revoked_at: None,
    };
    let first = key("motcua_aaaaaaaaaaaa", at);
    let second = key("motcua_bbbbbbbbbbbb", at + time::Duration::hours(1));
    store.api_clients.add_key(&first).await.unwrap();
    store.api_clients.add_key(&second).await.unwrap();
    assert!(
        matches!(
            store.api_clients.add_key(&first).await,
            Err(StoreError::Conflict(_))
        ),
        "a key's hash is unique"
    );
    assert_eq!(
        store.api_clients.keys(client.id).await.unwrap(),
        vec![second.clone(), first.clone(), a_key(client.id, at)],
        "newest first, the first key made with the client last"
    );
    let (found, owner) = store
        .api_clients
        .find_key(&first.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, owner), (first.clone(), client.clone()));
    assert_eq!(
        store
            .api_clients
            .find_key(&key_hash("motcua_other"))
            .await
            .unwrap(),
        None
    );

    // revoked once, by its own client only
    let revoke_at = at + time::Duration::days(1);
    assert!(
        !store
            .api_clients
            .revoke_key(later.id, &first.hash, revoke_at)
            .await
            .unwrap()
    );
    assert!(
        store
            .api_clients
            .revoke_key(client.id, &first.hash, revoke_at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .api_clients
            .revoke_key(client.id, &first.hash, revoke_at)
            .await
            .unwrap()
    );
    let (found, _) = store
        .api_clients
        .find_key(&first.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.revoked_at, Some(revoke_at));
    assert!(!found.is_live(revoke_at));
    assert!(
        store
            .api_clients
            .find_key(&second.hash)
            .await
            .unwrap()
            .unwrap()
            .0
            .is_live(revoke_at)
    );

    // switched off and on
    assert!(
        store
            .api_clients
            .set_disabled(client.id, Some(revoke_at))
            .await
            .unwrap()
    );
    let (_, off) = store
        .api_clients
        .find_key(&second.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(off.disabled_at, Some(revoke_at));
    assert!(
        store
            .api_clients
            .set_disabled(client.id, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .api_clients
            .set_disabled(ApiClientId::new(), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .api_clients
            .client(client.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        None
    );

    // the call log: newest first, per client or all, at most `limit`
    for (n, (who, status)) in [(client.id, 200u16), (later.id, 401), (client.id, 429)]
        .into_iter()
        .enumerate()
    {
        store
            .api_clients
            .record_call(&ApiCall {
                client: who,
                key_hint: "motcua_aaaaaa".into(),
                at: at + time::Duration::seconds(n as i64),
                method: "GET".into(),
                path: "/api/v1/office/dossiers".into(),
                status,
                millis: 3,
            })
            .await
            .unwrap();
    }
    let theirs = store.api_clients.calls(Some(client.id), 10).await.unwrap();
    assert_eq!(
        theirs.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![429, 200]
    );
    assert_eq!(theirs[1].at, at);
    assert_eq!(theirs[1].millis, 3);
    let all = store.api_clients.calls(None, 2).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![429, 401]
    );
}

async fn changed_dossiers_are_read_page_by_page_without_missing_one(store: &Store) {
    use motcua_store::ChangedQuery;
    fixtures::seed_minimal(store).await;
    // dossiers at two agencies, some changed at the very same instant (the cursor's id breaks the tie)
    let mut made = Vec::new();
    for n in 0..7u32 {
        let agency = if n % 3 == 2 { OTHER_AGENCY } else { AGENCY };
        let c = store
            .codes
            .reserve(&code(agency), date!(2023 - 10 - 27))
            .await
            .unwrap();
        let mut d = new_dossier(c);
        d.id = DossierId::new();
        d.created_at = datetime!(2023-10-27 02:00 UTC) + time::Duration::minutes(i64::from(n / 2));
        made.push(store.dossiers.create(&d).await.unwrap());
    }
    let ours: Vec<_> = made
        .iter()
        .filter(|d| d.agency == code(AGENCY))
        .cloned()
        .collect();
    let read_all = |statuses: Vec<DossierStatus>, since: Option<OffsetDateTime>, limit: u32| async move {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .dossiers
                .changed(&ChangedQuery {
                    agencies: vec![code(AGENCY)],
                    statuses: statuses.clone(),
                    updated_since: since,
                    after,
                    limit,
                })
                .await
                .unwrap();
            assert!(page.len() <= limit as usize);
            let last = page.last().map(|d| (d.updated_at, d.id));
            seen.extend(page.iter().map(|d| d.id));
            if page.len() < limit as usize {
                break seen;
            }
            after = last;
        }
    };
    for limit in [1, 2, 3, 50] {
        let seen = read_all(vec![], None, limit).await;
        let mut want: Vec<_> = ours.iter().map(|d| (d.updated_at, d.id)).collect();
        want.sort();
        assert_eq!(
            seen,
            want.iter().map(|w| w.1).collect::<Vec<_>>(),
            "limit {limit}"
        );
    }
    // a change moves a dossier to the end; a reader who kept the cursor of the last page reads it next
    let tail = store
        .dossiers
        .changed(&ChangedQuery {
            agencies: vec![code(AGENCY)],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let cursor = tail.last().map(|d| (d.updated_at, d.id));
    let first = &ours[0];
    let t = Transition::new(
        first.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        datetime!(2023-10-28 02:00 UTC),
        "officer",
    )
    .unwrap();
    store.dossiers.record_transition(&t).await.unwrap();
    let next = store
        .dossiers
        .changed(&ChangedQuery {
            agencies: vec![code(AGENCY)],
            after: cursor,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    assert_eq!(next[0].status, DossierStatus::Received);
    // by status, and changed since an instant
    let received = read_all(vec![DossierStatus::Received], None, 2).await;
    assert_eq!(received, vec![first.id]);
    let since = read_all(vec![], Some(datetime!(2023-10-28 00:00 UTC)), 2).await;
    assert_eq!(since, vec![first.id]);
    // both agencies together; none at all
    let both = store
        .dossiers
        .changed(&ChangedQuery {
            agencies: vec![code(AGENCY), code(OTHER_AGENCY)],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(both.len(), made.len());
    let none = store
        .dossiers
        .changed(&ChangedQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn a_change_is_queued_for_each_subscription_that_wants_it(store: &Store) {
    use motcua_domain::api_client::{ApiClient, ApiClientId, Scope};
    use motcua_domain::webhook::{MAX_ATTEMPTS, Webhook};
    use motcua_store::DeliveryTry;
    let dossier = submitted_dossier(store).await;
    let at = datetime!(2023-10-28 02:00 UTC);
    let lease = time::Duration::minutes(1);
    let client = |agencies: Vec<AgencyCode>| ApiClient {
        id: ApiClientId::new(),
        name: NonEmptyText::parse("Hệ thống").unwrap(),
        agencies,
        scopes: vec![Scope::Read],
        per_minute: 600,
        created_at: at,
        created_by: "test".into(),
        disabled_at: None,
    };
    let ours = client(vec![code(OTHER_AGENCY), code(AGENCY)]);
    let elsewhere = client(vec![code(OTHER_AGENCY)]);
    let paused = ApiClient {
        disabled_at: Some(at),
        ..client(vec![code(AGENCY)])
    };
    for c in [&ours, &elsewhere, &paused] {
        store
            .api_clients
            .create_client(c, &a_key(c.id, at))
            .await
            .unwrap();
    }
    let hook = |c: &ApiClient, events: &[&str]| Webhook {
        id: uuid::Uuid::now_v7(),
        client: c.id,
        url: "https://x.example.vn/h".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "whsec_AAAA".into(),
        created_at: at,
    };
    let all = hook(&ours, &[]);
    let received_only = hook(&ours, &["dossier.received"]);
    let refused_only = hook(&ours, &["dossier.refused", "dossier.supplement_requested"]);
    let removed = hook(&ours, &[]);
    let not_ours = hook(&elsewhere, &[]);
    let off = hook(&paused, &[]);
    for h in [
        &all,
        &received_only,
        &refused_only,
        &removed,
        &not_ours,
        &off,
    ] {
        store.webhooks.create_webhook(h).await.unwrap();
    }
    assert!(
        store
            .webhooks
            .remove_webhook(ours.id, removed.id, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .webhooks
            .remove_webhook(elsewhere.id, all.id, at)
            .await
            .unwrap(),
        "only its own"
    );
    assert_eq!(store.webhooks.webhooks(ours.id).await.unwrap().len(), 3);

    let t = Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        at,
        "officer",
    )
    .unwrap();
    let event = store.dossiers.record_transition(&t).await.unwrap();
    // due now: the subscriptions of a client in service at the dossier's agency that want `dossier.received`
    // (the switched-off client's delivery waits, untaken)
    let mut taken = store
        .webhooks
        .claim_deliveries(at, lease, 10, &[])
        .await
        .unwrap();
    // `all` first: it is the one delivered, then redelivered; `received_only` fails and is ended
    taken.sort_by_key(|(_, w, _)| w.id != all.id);
    let mut to: Vec<uuid::Uuid> = taken.iter().map(|(_, w, _)| w.id).collect();
    to.sort();
    let mut want = vec![all.id, received_only.id];
    want.sort();
    assert_eq!(to, want);
    assert!(
        taken
            .iter()
            .all(|(d, _, id)| d.event == event.id && *id == dossier.id && d.attempts == 1)
    );
    assert_eq!(taken[0].0.event_type, "dossier.received");
    // taken: leased, not taken again until the lease ends
    assert!(
        store
            .webhooks
            .claim_deliveries(at, lease, 10, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let try_of =
        |d: &motcua_domain::webhook::WebhookDelivery, ok: bool, attempts: u32| DeliveryTry {
            webhook: d.webhook,
            event: d.event,
            attempts,
            at,
            delivered: ok,
            status: Some(if ok { 204 } else { 503 }),
            error: (!ok).then(|| "503".to_string()),
            next_at: (!ok).then(|| at + time::Duration::minutes(5)),
        };
    // a try whose lease was taken over since (another count of attempts) records nothing
    assert!(
        !store
            .webhooks
            .record_try(&try_of(&taken[0].0, true, 7))
            .await
            .unwrap()
    );
    // one delivered, one to be tried again
    assert!(
        store
            .webhooks
            .record_try(&try_of(&taken[0].0, true, 1))
            .await
            .unwrap()
    );
    assert!(
        store
            .webhooks
            .record_try(&try_of(&taken[1].0, false, 1))
            .await
            .unwrap()
    );
    let later = at + time::Duration::minutes(5);
    // a subscription still being sent to by this node is left alone
    assert!(
        store
            .webhooks
            .claim_deliveries(later, lease, 10, &[taken[1].1.id])
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .webhooks
        .claim_deliveries(later, lease, 10, &[])
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.id, taken[1].1.id);
    assert_eq!(again[0].0.attempts, 2);
    assert_eq!(again[0].0.last_status, Some(503));
    let log = store.webhooks.deliveries(taken[0].1.id, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].delivered_at, Some(at));
    assert_eq!(log[0].next_at, None);
    // ended while a try is in flight: its failure schedules nothing more
    assert!(
        store
            .webhooks
            .remove_webhook(ours.id, again[0].1.id, later)
            .await
            .unwrap()
    );
    assert!(
        store
            .webhooks
            .record_try(&try_of(&again[0].0, false, 2))
            .await
            .unwrap()
    );
    let ended = store.webhooks.deliveries(again[0].1.id, 10).await.unwrap();
    assert_eq!(ended[0].next_at, None, "no retry for an ended subscription");
    assert!(
        !store
            .webhooks
            .redeliver(again[0].1.id, event.id, later)
            .await
            .unwrap(),
        "nor a redelivery"
    );
    // a redelivery is one more try: counted as the last, so a failure is not retried on a schedule
    assert!(
        store
            .webhooks
            .redeliver(taken[0].1.id, event.id, later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .webhooks
            .redeliver(taken[0].1.id, uuid::Uuid::nil(), later)
            .await
            .unwrap()
    );
    let once = store
        .webhooks
        .claim_deliveries(later, lease, 10, &[])
        .await
        .unwrap();
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].0.attempts, MAX_ATTEMPTS);
    // nothing was queued for the switched-off client; back in service, it hears of the changes after
    store
        .api_clients
        .set_disabled(paused.id, None)
        .await
        .unwrap();
    let back = store
        .webhooks
        .claim_deliveries(later, lease, 10, &[])
        .await
        .unwrap();
    assert!(back.is_empty());
    // at most two of one subscription at a time
    for to in [
        DossierStatus::Processing,
        DossierStatus::Processed,
        DossierStatus::ResultDelivered,
    ] {
        let from = store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status;
        let t = Transition::new(dossier.id, from, to, later, "officer").unwrap();
        store.dossiers.record_transition(&t).await.unwrap();
    }
    let batch = store
        .webhooks
        .claim_deliveries(later + time::Duration::hours(1), lease, 10, &[])
        .await
        .unwrap();
    for h in [all.id, off.id] {
        assert_eq!(
            batch.iter().filter(|(_, w, _)| w.id == h).count(),
            2,
            "two of each: {h} in {:?} (all {}, off {})",
            batch
                .iter()
                .map(|(d, w, _)| (w.id, d.event_type.clone()))
                .collect::<Vec<_>>(),
            all.id,
            off.id
        );
    }
    // finished deliveries are forgotten after a while (the ended subscription's); pending ones stay (the one being
    // redelivered, and the new ones)
    let forgotten = store
        .webhooks
        .forget_deliveries_before(later + time::Duration::days(60))
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert!(
        store
            .webhooks
            .deliveries(again[0].1.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .webhooks
            .deliveries(taken[0].1.id, 10)
            .await
            .unwrap()
            .len(),
        4,
        "the reception, then three changes"
    );
}

/// A first key for a client of the contract tests.
fn a_key(
    client: motcua_domain::api_client::ApiClientId,
    at: OffsetDateTime,
) -> motcua_domain::api_client::ApiKey {
    let text = format!("motcua_first_{}", client.0.simple());
    motcua_domain::api_client::ApiKey {
        hash: motcua_domain::api_client::key_hash(&text),
        client,
        hint: text[..13].to_string(),
        created_at: at - time::Duration::days(1),
        expires_at: at + time::Duration::days(365),
        revoked_at: None,
    }
}

async fn an_apology_is_announced_and_a_merger_is_not(store: &Store) {
    use motcua_domain::api_client::{ApiClient, ApiClientId, Scope};
    use motcua_domain::webhook::Webhook;
    let dossier = submitted_dossier(store).await;
    let at = datetime!(2023-10-28 02:00 UTC);
    let c = ApiClient {
        id: ApiClientId::new(),
        name: NonEmptyText::parse("Hệ thống").unwrap(),
        agencies: vec![code(AGENCY)],
        scopes: vec![Scope::Read],
        per_minute: 600,
        created_at: at,
        created_by: "test".into(),
        disabled_at: None,
    };
    store
        .api_clients
        .create_client(&c, &a_key(c.id, at))
        .await
        .unwrap();
    let hook = Webhook {
        id: uuid::Uuid::now_v7(),
        client: c.id,
        url: "https://x.example.vn/h".into(),
        events: vec![],
        secret: "whsec_AAAA".into(),
        created_at: at,
    };
    store.webhooks.create_webhook(&hook).await.unwrap();
    let received = Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        at,
        "officer",
    )
    .unwrap()
    .with_due_at(at + time::Duration::days(5));
    store.dossiers.record_transition(&received).await.unwrap();
    let apology = Transition::apology(
        dossier.id,
        DossierStatus::Received,
        at + time::Duration::days(4),
        "head",
        at + time::Duration::days(9),
        "Xin lỗi vì chậm trả kết quả, hẹn lại ngày mới.",
    )
    .unwrap();
    store.dossiers.record_transition(&apology).await.unwrap();
    let log = store.webhooks.deliveries(hook.id, 10).await.unwrap();
    assert_eq!(
        log.len(),
        2,
        "the reception and the apology with its new date"
    );
    assert!(log.iter().all(|d| d.event_type == "dossier.received"));
}

async fn personal_tokens_are_kept_as_hashes_and_revoked(store: &Store) {
    use motcua_domain::api_client::PersonalToken;
    fixtures::seed_minimal(store).await;
    let at = datetime!(2026-11-30 03:00 UTC);
    let person = citizen();
    store.accounts.create(&person).await.unwrap();
    let (one, first) = PersonalToken::issue(person.id, "Điện thoại".into(), &[1; 32], at, 30);
    let (_, second) = PersonalToken::issue(
        person.id,
        "Máy tính".into(),
        &[2; 32],
        at + time::Duration::hours(1),
        90,
    );
    store
        .personal_tokens
        .add_personal_token(&first)
        .await
        .unwrap();
    store
        .personal_tokens
        .add_personal_token(&second)
        .await
        .unwrap();
    assert_eq!(
        store
            .personal_tokens
            .personal_tokens(person.id)
            .await
            .unwrap(),
        vec![second.clone(), first.clone()],
        "newest first"
    );
    let found = store
        .personal_tokens
        .find_personal_token(&motcua_domain::api_client::key_hash(&one))
        .await
        .unwrap();
    assert_eq!(found, Some(first.clone()));
    assert_eq!(
        store
            .personal_tokens
            .find_personal_token("x")
            .await
            .unwrap(),
        None
    );
    let other = motcua_domain::AccountId::new();
    assert!(
        !store
            .personal_tokens
            .revoke_personal_token(other, &first.hash, at)
            .await
            .unwrap(),
        "only the owner"
    );
    assert!(
        store
            .personal_tokens
            .revoke_personal_token(person.id, &first.hash, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .personal_tokens
            .revoke_personal_token(person.id, &first.hash, at)
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(
        store
            .personal_tokens
            .revoke_all_personal_tokens(person.id, at)
            .await
            .unwrap(),
        1,
        "the one still live"
    );
    assert!(
        store
            .personal_tokens
            .personal_tokens(person.id)
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked_at == Some(at))
    );
}
