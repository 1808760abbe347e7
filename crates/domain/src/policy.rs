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
    /// Write news and portal content.
    EditContent,
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

/// Which roles allow an action at an agency.
fn roles_for(action: Action<'_>) -> (&'static [Role], Option<&AgencyCode>) {
    use Role::*;
    match action {
        Action::ViewOwnAccount | Action::OwnDossier(_) => (&[], None),
        Action::ViewSecurityAudit => (&[Administrator], None),
        Action::ReceiveDossiers(a) => (&[Reception, HeadOfUnit, Administrator], Some(a)),
        Action::ProcessDossiers(a) => (&[Specialist, HeadOfUnit, Leader, Administrator], Some(a)),
        Action::ApproveDossiers(a) => (&[HeadOfUnit, Leader], Some(a)),
        Action::EditContent => (&[Editor, Administrator], None),
        Action::ManageAccounts(a) => (&[Administrator], Some(a)),
        Action::Administer => (&[Administrator], None),
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
    let (roles, at) = roles_for(action);
    let granted = account.grants.iter().any(|g| {
        roles.contains(&g.role)
            && match at {
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
    }
}
