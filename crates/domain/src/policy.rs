//! Who may do what: the one place that decides. Handlers ask [`decide`] and never check roles themselves.
//! A role counts at the agency it was granted for, and at the agencies below it when granted with sub-agencies.

use crate::{Account, AccountKind, AgencyCode, Role};

/// Something someone wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// See one's own account page.
    ViewOwnAccount,
    /// Prepare, submit, follow or withdraw a dossier (or draft) one owns: only its owner.
    OwnDossier(&'a crate::AccountId),
    /// Read the security audit trail (administrators).
    ViewSecurityAudit,
    /// Receive, check, accept or refuse dossiers at this agency (one-stop desk).
    ReceiveDossiers(&'a AgencyCode),
    /// Work on dossiers at this agency.
    ProcessDossiers(&'a AgencyCode),
    /// Approve results, supplement requests and apologies at this agency.
    ApproveDossiers(&'a AgencyCode),
    /// Work at this agency's desk with any desk right (receive, process or approve): open its dossiers, its
    /// register and the steps waiting there.
    DeskWork(&'a AgencyCode),
    /// Hold a processing step of this role at this agency: take it, or be given it.
    HoldStep(Role, &'a AgencyCode),
    /// Move the open step (assign, forward, return, approve) of this role at this agency, held by `holder`
    /// (`None`: nobody yet): its holder may, anyone who may hold it while it is unassigned, and the unit's head
    /// or leader always.
    MoveStep {
        holder: Option<&'a crate::AccountId>,
        role: Role,
        agency: &'a AgencyCode,
    },
    /// Write news and portal content, and keep the procedure records and the search vocabulary.
    EditContent,
    /// Write articles and send them for approval.
    WriteArticles,
    /// Approve an article for readers, send it back, or take it down.
    ApproveArticles,
    /// Publish or reject readers' comments.
    ModerateComments,
    /// Set the online level of a procedure at this agency (an editor or administrator whose grant covers it).
    SetServiceLevel(&'a AgencyCode),
    /// Create officers and grant roles at this agency.
    ManageAccounts(&'a AgencyCode),
    /// Open the administration pages at all (administrators of any agency).
    Administer,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is logged in: log in first.
    NeedsLogin,
    /// Logged in, but not allowed.
    Deny,
}

/// A role that works at a desk (receives, processes, approves, or administers it): where "Việc của tôi" belongs.
pub fn is_desk_role(role: Role) -> bool {
    use Role::*;
    matches!(
        role,
        Reception | Specialist | HeadOfUnit | Leader | Administrator
    )
}

/// An officer in service with a desk role somewhere (grants always name an agency of the catalogue).
pub fn works_at_a_desk(account: &Account) -> bool {
    !account.disabled
        && account.kind == AccountKind::Officer
        && account.grants.iter().any(|g| is_desk_role(g.role))
}

/// Whether a grant of `role` allows a role-based action, and at which agency it must count (`None`: anywhere).
fn grant_fits(action: Action<'_>, role: Role) -> (bool, Option<&AgencyCode>) {
    use Role::*;
    match action {
        Action::ViewOwnAccount | Action::OwnDossier(_) | Action::MoveStep { .. } => (false, None),
        Action::ViewSecurityAudit | Action::Administer => (role == Administrator, None),
        Action::ReceiveDossiers(a) => (
            matches!(role, Reception | HeadOfUnit | Administrator),
            Some(a),
        ),
        Action::ProcessDossiers(a) => (
            matches!(role, Specialist | HeadOfUnit | Leader | Administrator),
            Some(a),
        ),
        Action::ApproveDossiers(a) => (matches!(role, HeadOfUnit | Leader), Some(a)),
        Action::DeskWork(a) => (is_desk_role(role), Some(a)),
        Action::HoldStep(wanted, a) => (role == wanted, Some(a)),
        Action::EditContent => (matches!(role, Editor | HeadEditor | Administrator), None),
        Action::WriteArticles | Action::ModerateComments => {
            (matches!(role, Editor | HeadEditor), None)
        }
        Action::ApproveArticles => (role == HeadEditor, None),
        Action::SetServiceLevel(a) => (matches!(role, Editor | Administrator), Some(a)),
        Action::ManageAccounts(a) => (role == Administrator, Some(a)),
    }
}

/// Decide. `within(agency, ancestor)` says whether `agency` is `ancestor` or below it.
pub fn decide(
    who: Option<&Account>,
    action: Action<'_>,
    within: &dyn Fn(&AgencyCode, &AgencyCode) -> bool,
) -> Decision {
    let Some(account) = who.filter(|a| !a.disabled) else {
        return Decision::NeedsLogin;
    };
    if action == Action::ViewOwnAccount {
        return Decision::Allow;
    }
    if let Action::OwnDossier(owner) = action {
        return if *owner == account.id {
            Decision::Allow
        } else {
            Decision::Deny
        };
    }
    if account.kind != AccountKind::Officer {
        return Decision::Deny;
    }
    if let Action::MoveStep {
        holder,
        role,
        agency,
    } = action
    {
        let may = |a| decide(who, a, within) == Decision::Allow;
        let moves = match holder {
            Some(holder) => *holder == account.id,
            None => may(Action::HoldStep(role, agency)),
        } || may(Action::HoldStep(Role::HeadOfUnit, agency))
            || may(Action::HoldStep(Role::Leader, agency));
        return if moves {
            Decision::Allow
        } else {
            Decision::Deny
        };
    }
    let granted = account.grants.iter().any(|g| {
        let (fits, at) = grant_fits(action, g.role);
        fits && match at {
            None => true,
            Some(agency) => {
                &g.agency == agency || (g.include_sub_agencies && within(agency, &g.agency))
            }
        }
    });
    if granted {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, NonEmptyText, RoleGrant};
    use time::OffsetDateTime;

    fn officer(grants: &[&str]) -> Account {
        Account {
            id: AccountId::new(),
            kind: AccountKind::Officer,
            full_name: NonEmptyText::parse("Cán bộ").unwrap(),
            personal_id: None,
            birth_date: None,
            phone: None,
            email: None,
            address: None,
            password_hash: String::new(),
            email_verified_at: None,
            disabled: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            grants: grants
                .iter()
                .map(|g| RoleGrant::parse(g).unwrap())
                .collect(),
        }
    }

    fn code(c: &str) -> AgencyCode {
        AgencyCode::parse(c).unwrap()
    }

    /// 000.31.00.H56 and 000.32.00.H56 are below the province 000.00.00.H56.
    fn within(agency: &AgencyCode, ancestor: &AgencyCode) -> bool {
        agency == ancestor || (ancestor.as_str() == "000.00.00.H56" && agency.level1() == "H56")
    }

    #[test]
    fn only_officers_with_a_desk_role_work_at_a_desk() {
        assert!(works_at_a_desk(&officer(&["reception@000.31.00.H56"])));
        assert!(works_at_a_desk(&officer(&["administrator@000.00.00.H56+"])));
        assert!(!works_at_a_desk(&officer(&["editor@000.00.00.H56+"])));
        let mut gone = officer(&["leader@000.31.00.H56"]);
        gone.disabled = true;
        assert!(!works_at_a_desk(&gone));
    }

    #[test]
    fn online_levels_are_set_only_where_an_editors_grant_reaches() {
        let (ward, other) = (code("000.31.00.H56"), code("000.00.07.H57"));
        let province_editor = officer(&["editor@000.00.00.H56+"]);
        let ward_editor = officer(&["editor@000.31.00.H56"]);
        let allows = |who: &Account, at: &AgencyCode| {
            decide(Some(who), Action::SetServiceLevel(at), &within) == Decision::Allow
        };
        assert!(allows(&province_editor, &ward));
        assert!(!allows(&province_editor, &other));
        assert!(allows(&ward_editor, &ward));
        assert!(!allows(&ward_editor, &code("000.32.00.H56")));
        assert!(!allows(&officer(&["specialist@000.00.00.H56+"]), &ward));
    }

    #[test]
    fn nobody_logged_in_must_log_in_and_citizens_never_act_as_officers() {
        let ward = code("000.31.00.H56");
        assert_eq!(
            decide(None, Action::ViewOwnAccount, &within),
            Decision::NeedsLogin
        );
        let mut citizen = officer(&["administrator@000.00.00.H56+"]);
        citizen.kind = AccountKind::Citizen;
        assert_eq!(
            decide(Some(&citizen), Action::ViewOwnAccount, &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&citizen), Action::ReceiveDossiers(&ward), &within),
            Decision::Deny
        );
        let mut disabled = officer(&["reception@000.31.00.H56"]);
        disabled.disabled = true;
        assert_eq!(
            decide(Some(&disabled), Action::ReceiveDossiers(&ward), &within),
            Decision::NeedsLogin
        );
    }

    #[test]
    fn only_the_owner_acts_on_a_dossier_whatever_their_roles() {
        let mut citizen = officer(&[]);
        citizen.kind = AccountKind::Citizen;
        let admin = officer(&["administrator@000.00.00.H56+"]);
        assert_eq!(
            decide(Some(&citizen), Action::OwnDossier(&citizen.id), &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&admin), Action::OwnDossier(&citizen.id), &within),
            Decision::Deny
        );
        assert_eq!(
            decide(None, Action::OwnDossier(&citizen.id), &within),
            Decision::NeedsLogin
        );
    }

    #[test]
    fn roles_count_only_at_their_agency_unless_granted_with_sub_agencies() {
        let ward = code("000.31.00.H56");
        let other_ward = code("000.32.00.H56");
        let reception = officer(&["reception@000.31.00.H56"]);
        assert_eq!(
            decide(Some(&reception), Action::ReceiveDossiers(&ward), &within),
            Decision::Allow
        );
        assert_eq!(
            decide(
                Some(&reception),
                Action::ReceiveDossiers(&other_ward),
                &within
            ),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&reception), Action::ApproveDossiers(&ward), &within),
            Decision::Deny
        );
        let province_leader = officer(&["leader@000.00.00.H56"]);
        assert_eq!(
            decide(
                Some(&province_leader),
                Action::ApproveDossiers(&ward),
                &within
            ),
            Decision::Deny
        );
        let leader_below = officer(&["leader@000.00.00.H56+"]);
        assert_eq!(
            decide(Some(&leader_below), Action::ApproveDossiers(&ward), &within),
            Decision::Allow
        );
        let admin = officer(&["administrator@000.00.00.H56+"]);
        assert_eq!(
            decide(Some(&admin), Action::ViewSecurityAudit, &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&admin), Action::ApproveDossiers(&ward), &within),
            Decision::Deny,
            "administrators manage, they do not approve results"
        );
        let editor = officer(&["editor@000.00.00.H56"]);
        assert_eq!(
            decide(Some(&editor), Action::EditContent, &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&editor), Action::ViewSecurityAudit, &within),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&editor), Action::WriteArticles, &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&editor), Action::ApproveArticles, &within),
            Decision::Deny,
            "an editor cannot publish without the head editor's approval"
        );
        let head_editor = officer(&["head_editor@000.00.00.H56"]);
        assert_eq!(
            decide(Some(&head_editor), Action::ApproveArticles, &within),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&admin), Action::ApproveArticles, &within),
            Decision::Deny,
            "administrators keep the system, not the news"
        );
    }

    #[test]
    fn steps_are_held_by_their_role_and_moved_by_holder_or_the_units_head() {
        let ward = code("000.31.00.H56");
        let other_ward = code("000.32.00.H56");
        let specialist = officer(&["specialist@000.31.00.H56"]);
        let colleague = officer(&["specialist@000.31.00.H56"]);
        let head = officer(&["head_of_unit@000.31.00.H56"]);
        let reception = officer(&["reception@000.31.00.H56"]);
        let allow = |who: &Account, a| decide(Some(who), a, &within) == Decision::Allow;
        assert!(allow(
            &specialist,
            Action::HoldStep(Role::Specialist, &ward)
        ));
        assert!(!allow(&specialist, Action::HoldStep(Role::Leader, &ward)));
        assert!(!allow(
            &specialist,
            Action::HoldStep(Role::Specialist, &other_ward)
        ));
        let unassigned = Action::MoveStep {
            holder: None,
            role: Role::Specialist,
            agency: &ward,
        };
        assert!(allow(&specialist, unassigned));
        assert!(
            !allow(&reception, unassigned),
            "reception does not hold specialist steps"
        );
        let held = Action::MoveStep {
            holder: Some(&specialist.id),
            role: Role::Specialist,
            agency: &ward,
        };
        assert!(allow(&specialist, held));
        assert!(
            !allow(&colleague, held),
            "a colleague does not take over a held step"
        );
        assert!(
            allow(&head, held),
            "the head of unit may always move a step of the unit"
        );
        let elsewhere = Action::MoveStep {
            holder: Some(&specialist.id),
            role: Role::Specialist,
            agency: &other_ward,
        };
        assert!(!allow(&head, elsewhere));
        assert!(allow(&head, Action::DeskWork(&ward)));
        assert!(allow(&reception, Action::DeskWork(&ward)));
        assert!(!allow(
            &officer(&["editor@000.31.00.H56"]),
            Action::DeskWork(&ward)
        ));
        // the desk is exactly the union of the three desk rights
        for role in Role::ALL {
            let who = officer(&[&format!("{}@000.31.00.H56", role.as_str())]);
            let any = [
                Action::ReceiveDossiers(&ward),
                Action::ProcessDossiers(&ward),
                Action::ApproveDossiers(&ward),
            ]
            .into_iter()
            .any(|a| allow(&who, a));
            assert_eq!(allow(&who, Action::DeskWork(&ward)), any, "{role:?}");
        }
        assert_eq!(decide(None, held, &within), Decision::NeedsLogin);
    }
}
