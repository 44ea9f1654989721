//! Microsoft's first-party APIs whose service principals every tenant has — Microsoft Graph and
//! the Azure Service Management API — with the permissions they publish: delegated ones
//! (`oauth2PermissionScopes`) and application ones (`appRoles`). Clients look permissions up by
//! value on these principals (`az ad app permission add/grant`) and the token service puts
//! granted ones in tokens (`scp`, `roles`).
//!
//! Ids are Microsoft's (learn.microsoft.com/graph/permissions-reference; the Azure Service
//! Management API's `user_impersonation` as azure-cli's Graph tests use it). Only the
//! directory-related part of Graph's catalogue is listed.

use uuid::Uuid;

/// The tenant that owns Microsoft's first-party applications (`appOwnerOrganizationId`).
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";
pub const AZURE_SERVICE_MANAGEMENT: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

/// One published permission: id, value, and the text consent shows.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    pub id: &'static str,
    pub value: &'static str,
    pub display_name: &'static str,
}

#[derive(Debug)]
pub struct FirstPartyApi {
    pub app_id: &'static str,
    pub display_name: &'static str,
    pub service_principal_names: &'static [&'static str],
    pub scopes: &'static [Permission],
    pub app_roles: &'static [Permission],
}

const fn p(id: &'static str, value: &'static str, display_name: &'static str) -> Permission {
    Permission { id, value, display_name }
}

pub const APIS: &[FirstPartyApi] = &[
    FirstPartyApi {
        app_id: MICROSOFT_GRAPH,
        display_name: "Microsoft Graph",
        service_principal_names: &[MICROSOFT_GRAPH, "https://graph.microsoft.com", "https://graph.microsoft.com/"],
        scopes: &[
            p("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Sign users in"),
            p("14dad69e-099b-42c9-810b-d002981feec1", "profile", "View users' basic profile"),
            p("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "View users' email address"),
            p("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "Maintain access to data you have given it access to"),
            p("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Sign in and read user profile"),
            p("a154be20-db9c-4678-8ab7-66f6cc099a59", "User.Read.All", "Read all users' full profiles"),
            p("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All", "Read directory data"),
            p("c5366453-9fb0-48a5-a156-24f0c49a4b84", "Directory.ReadWrite.All", "Read and write directory data"),
            p("0e263e50-5827-48a4-b97c-d940288653c7", "Directory.AccessAsUser.All", "Access directory as the signed in user"),
            p("c79f8feb-a9db-4090-85f9-90d820caa0eb", "Application.Read.All", "Read applications"),
            p("bdfbf15f-ee85-4955-8675-146e8e5296b5", "Application.ReadWrite.All", "Read and write all applications"),
            p("5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Group.Read.All", "Read all groups"),
            p("4e46008b-f24c-477d-8fff-7bb4ec7aafe0", "Group.ReadWrite.All", "Read and write all groups"),
        ],
        app_roles: &[
            p("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
            p("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"),
            p("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
            p("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
            p("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
            p("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"),
            p("18a4783c-866b-4cc7-a460-3d5e5662c884", "Application.ReadWrite.OwnedBy", "Manage apps that this app creates or owns"),
            p(
                "06b708a9-e830-4db3-a914-8e69da51d44f",
                "AppRoleAssignment.ReadWrite.All",
                "Manage app permission grants and app role assignments",
            ),
            p("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
            p("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
            p("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory", "Read and write all directory RBAC settings"),
        ],
    },
    FirstPartyApi {
        app_id: AZURE_SERVICE_MANAGEMENT,
        display_name: "Windows Azure Service Management API",
        service_principal_names: &[AZURE_SERVICE_MANAGEMENT, "https://management.core.windows.net/", "https://management.azure.com/"],
        scopes: &[p("41094075-9dad-400e-a0bd-54e686782033", "user_impersonation", "Access Azure Service Management as organization users")],
        app_roles: &[],
    },
];

pub fn by_app_id(app_id: Uuid) -> Option<&'static FirstPartyApi> {
    APIS.iter().find(|a| a.app_id.parse::<Uuid>().ok() == Some(app_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_guids_and_unique_per_api() {
        for api in APIS {
            assert!(api.app_id.parse::<Uuid>().is_ok());
            let mut ids: Vec<Uuid> = api.scopes.iter().chain(api.app_roles).map(|p| p.id.parse().unwrap()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            // A delegated and an application permission may share a value, never an id.
            assert_eq!(ids.len(), n, "{}", api.display_name);
        }
    }
}
