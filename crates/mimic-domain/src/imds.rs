//! Which of a VM's managed identities an IMDS token request names (docs/azure-behaviour.md §5): a request
//! selects by `client_id`, `object_id` or `msi_res_id` (at most one), or by nothing, which means
//! the system-assigned identity — or the only user-assigned one when there is no system identity.

/// One identity attached to a VM, as IMDS can serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedIdentity {
    /// Service principal object id (`principalId`, the token's `oid`).
    pub principal_id: String,
    /// Application id (`clientId`, the token's `appid`).
    pub client_id: String,
    /// ARM id the token names in `xms_mirid`: the VM's for system-assigned, the identity's otherwise.
    pub resource_id: String,
    pub system_assigned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector<'a> {
    Default,
    ClientId(&'a str),
    ObjectId(&'a str),
    ResourceId(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// No identity matches (or the VM has none): Azure's "Identity not found".
    NotFound,
    /// No selector, no system identity, several user-assigned ones.
    Ambiguous,
}

pub fn select<'a>(identities: &'a [AttachedIdentity], selector: &Selector) -> Result<&'a AttachedIdentity, SelectError> {
    let found = match selector {
        Selector::Default => {
            if let Some(sa) = identities.iter().find(|i| i.system_assigned) {
                return Ok(sa);
            }
            let user: Vec<&AttachedIdentity> = identities.iter().filter(|i| !i.system_assigned).collect();
            return match user.as_slice() {
                [one] => Ok(one),
                [] => Err(SelectError::NotFound),
                _ => Err(SelectError::Ambiguous),
            };
        }
        Selector::ClientId(c) => identities.iter().find(|i| i.client_id.eq_ignore_ascii_case(c)),
        Selector::ObjectId(o) => identities.iter().find(|i| i.principal_id.eq_ignore_ascii_case(o)),
        Selector::ResourceId(r) => {
            let want = crate::resource_id::key(r);
            identities.iter().find(|i| !i.system_assigned && crate::resource_id::key(&i.resource_id) == want)
        }
    };
    found.ok_or(SelectError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(p: &str, system: bool) -> AttachedIdentity {
        AttachedIdentity {
            principal_id: format!("p-{p}"),
            client_id: format!("c-{p}"),
            resource_id: format!("/subscriptions/s/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{p}"),
            system_assigned: system,
        }
    }

    #[test]
    fn selection_rules() {
        let sa = id("sa", true);
        let u1 = id("u1", false);
        let u2 = id("u2", false);
        let all = vec![sa.clone(), u1.clone(), u2.clone()];
        let users = vec![u1.clone(), u2.clone()];
        let one = vec![u1.clone()];
        // (what, attached identities, selector, principal picked or the refusal)
        type Case<'a> = (&'a str, &'a [AttachedIdentity], Selector<'a>, Result<&'a str, SelectError>);
        let cases: Vec<Case> = vec![
            ("default picks system-assigned", &all, Selector::Default, Ok("p-sa")),
            ("default with one user-assigned picks it", &one, Selector::Default, Ok("p-u1")),
            ("default with several user-assigned is ambiguous", &users, Selector::Default, Err(SelectError::Ambiguous)),
            ("no identity at all", &[], Selector::Default, Err(SelectError::NotFound)),
            ("by client id", &all, Selector::ClientId("C-U2"), Ok("p-u2")),
            ("by object id", &all, Selector::ObjectId("p-u1"), Ok("p-u1")),
            (
                "by resource id, any casing",
                &all,
                Selector::ResourceId("/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/U1"),
                Ok("p-u1"),
            ),
            ("another VM's identity is not found", &all, Selector::ClientId("c-other"), Err(SelectError::NotFound)),
        ];
        for (what, ids, sel, want) in cases {
            let got = select(ids, &sel).map(|i| i.principal_id.as_str());
            assert_eq!(got, want, "{what}");
        }
    }
}
